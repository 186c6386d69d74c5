# Shared set-up steps for bin/demo and bin/test. Idempotent: fast when everything is already there.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"
APT_UPDATED=""

apt_install() {
  # Install the Debian packages that are missing (checked with dpkg, so a set-up machine costs nothing).
  local missing=()
  for pkg in "$@"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "==> apt-get install ${missing[*]}"
  if [ -z "$APT_UPDATED" ]; then $SUDO apt-get update -qq; APT_UPDATED=1; fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
}

pdf_libraries() {
  # WeasyPrint's native libraries, for invoice PDFs.
  apt_install libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core
}

python_env() {
  # A virtualenv in .venv with the pinned requirements; reinstalled only when a requirements file changes.
  local req="$1"
  local python="${PYTHON:-python3}"
  [ -x .venv/bin/python ] || "$python" -m venv .venv
  local stamp=".venv/.installed-$(cat requirements*.txt | sha1sum | cut -c1-12)-$(basename "$req")"
  if [ ! -f "$stamp" ]; then
    echo "==> pip install -r $req"
    .venv/bin/python -m pip install -q --upgrade pip >/dev/null
    .venv/bin/python -m pip install -q -r "$req"
    touch "$stamp"
  fi
}

postgres_up() {
  # A local PostgreSQL on 127.0.0.1:5432 with user postgres / password postgres.
  export PGPASSWORD=postgres
  if ! command -v pg_ctlcluster >/dev/null 2>&1; then
    apt_install postgresql
  fi
  if ! pg_isready -h 127.0.0.1 -p 5432 -q; then
    echo "==> starting PostgreSQL"
    local version
    version="$(ls /etc/postgresql | sort -V | tail -n1)"
    $SUDO pg_ctlcluster --skip-systemctl-redirect "$version" main start
    for _ in $(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done
  fi
  if ! psql -h 127.0.0.1 -U postgres -d postgres -Atc "select 1" >/dev/null 2>&1; then
    # A fresh Debian cluster asks for a password on TCP: give the postgres role one.
    $SUDO su postgres -c "psql -q -c \"ALTER USER postgres PASSWORD 'postgres'\""
  fi
}

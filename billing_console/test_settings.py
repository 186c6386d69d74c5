"""Test settings: django-q2 runs tasks synchronously, in the caller's process.

django-q2 reads Q_CLUSTER when it is imported, so "sync" has to be set here,
not with override_settings.
"""
import os

os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("SECRET_KEY", "test-only-secret-key")

from billing_console.settings import *  # noqa: E402,F403
from billing_console.settings import Q_CLUSTER  # noqa: E402

Q_CLUSTER = {**Q_CLUSTER, "sync": True}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
WEBHOOK_PRIVATE_KEY_FILE = Path(os.environ.get("TEST_WEBHOOK_KEY_FILE", "/tmp/billing-console-test-webhook-key.pem"))  # noqa: F405
MEDIA_ROOT = Path(os.environ.get("TEST_MEDIA_ROOT", "/tmp/billing-console-test-media"))  # noqa: F405


def _postgres_reachable(url: str) -> bool:
    try:
        import psycopg

        psycopg.connect(url.replace("postgres://", "postgresql://", 1), connect_timeout=2).close()
        return True
    except Exception:
        return False


# Tests run on PostgreSQL. Only when no server is reachable (and REQUIRE_POSTGRES is not set)
# do they fall back to SQLite, and the PostgreSQL-only tests are then skipped with the reason.
_default_pg = "postgres://postgres@127.0.0.1:5432/billing_console"
_url = os.environ.get("DATABASE_URL") or _default_pg
if _url.startswith("postgres") and not _postgres_reachable(_url.rsplit("/", 1)[0] + "/postgres"):
    if os.environ.get("REQUIRE_POSTGRES"):
        raise RuntimeError(f"REQUIRE_POSTGRES is set but PostgreSQL at {_url} is not reachable.")
    _url = "sqlite:///" + str(BASE_DIR / "test-db.sqlite3")  # noqa: F405
DATABASES = {"default": env.db_url_config(_url)}  # noqa: F405
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {"timeout": 20, "transaction_mode": "IMMEDIATE"}
USING_POSTGRES = DATABASES["default"]["ENGINE"].endswith("postgresql")
# The webhook tests deliver to a receiver on 127.0.0.1; tests of the URL policy turn this off.
WEBHOOK_ALLOW_PRIVATE_URLS = True

"""A real Lago-speaking upstream for upstream-mode tests: this project, standalone, in a subprocess.

`Upstream` migrates its own SQLite file, creates an API key with `manage.py create_api_key`, seeds
invoices with bench/upstream_seed.py (its ORM, in its own environment) and serves under gunicorn on a
free 127.0.0.1 port. `Proxy` sits in front of it at the network edge: it forwards, or answers 422/500,
or sleeps past the console's timeout, and counts the calls that reached it (finalize apart).
"""
import collections
import http.client
import http.server
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Upstream:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="bc-upstream-")
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("LAGO_", "PYTEST", "TEST_MEDIA"))}
        self.env.update({
            "DATABASE_URL": f"sqlite:///{self.dir}/upstream.sqlite3", "SECRET_KEY": "upstream-test-only", "DEBUG": "false",
            "ALLOWED_HOSTS": "127.0.0.1,localhost", "DJANGO_SETTINGS_MODULE": "billing_console.settings", "LOG_LEVEL": "WARNING",
            "MEDIA_ROOT": f"{self.dir}/media", "WEBHOOK_PRIVATE_KEY_FILE": f"{self.dir}/key.pem", "INVOICE_PDF_AFTER_FINALIZATION": "false",
        })
        self.port = free_port()
        self.process = None

    def manage(self, *args) -> str:
        return subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=self.env, check=True, capture_output=True, text=True).stdout

    def start(self):
        self.manage("migrate", "-v", "0")
        self.key = self.manage("create_api_key", "console").strip().splitlines()[-1]
        self.process = subprocess.Popen(
            [PYTHON, "-m", "gunicorn", "billing_console.wsgi", "--bind", f"127.0.0.1:{self.port}", "--workers", "2",
             "--log-level", "warning"], cwd=ROOT, env=self.env)
        for _ in range(150):
            try:
                requests.get(f"{self.url}/api/v1/billing_entities", headers=self.headers, timeout=1)
                return self
            except requests.RequestException:
                time.sleep(0.1)
        raise RuntimeError("the upstream did not start")

    def stop(self):
        if self.process:
            self.process.terminate()
            self.process.wait(timeout=20)
            self.process = None

    def seed(self, invoices: int, drafts: int = 0, prefix: str = "s", grace_days: int = 3) -> list[str]:
        out = subprocess.run([PYTHON, "bench/upstream_seed.py", "--invoices", str(invoices), "--drafts", str(drafts), "--prefix", prefix,
                              "--grace-days", str(grace_days)], cwd=ROOT, env=self.env, check=True, capture_output=True, text=True).stdout
        return [line for line in out.split() if line]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def headers(self) -> dict:
        return {"Authorization": f"Bearer {self.key}", "Content-Type": "application/json"}

    def get(self, path: str) -> dict:
        response = requests.get(f"{self.url}/api/v1/{path}", headers=self.headers, timeout=10)
        response.raise_for_status()
        return response.json()

    def request(self, method: str, path: str, body=None) -> requests.Response:
        return requests.request(method, f"{self.url}/api/v1/{path}", headers=self.headers, json=body, timeout=10)


class Proxy:
    """127.0.0.1 proxy: `mode` is "pass", "422", "500", "slow:<s>" or "delay:<s>" (sleep, then forward); `finalize_calls` counts PUT …/finalize."""

    def __init__(self, target_port: int):
        self.target_port = target_port
        self.mode = "pass"
        self.finalize_calls = 0
        self.calls = collections.Counter()  # (method, last path segment) -> requests that reached the proxy
        self.lock = threading.Lock()
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _handle(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with proxy.lock:
                    proxy.calls[(self.command, self.path.split("?")[0].rsplit("/", 1)[-1])] += 1
                    if self.path.endswith("/finalize"):
                        proxy.finalize_calls += 1
                mode = proxy.mode
                if mode.startswith(("slow:", "delay:")):  # slow: past the timeout, then forwarded; delay: the same, shorter
                    time.sleep(float(mode.split(":")[1]))
                if mode in ("422", "500"):
                    answer = {"status": int(mode), "error": "Unprocessable Entity" if mode == "422" else "Internal Server Error"}
                    if mode == "422":
                        answer.update(code="validation_errors", error_details={"tax_identification_number": ["value_is_mandatory"]})
                    return self._send(int(mode), json.dumps(answer).encode())
                conn = http.client.HTTPConnection("127.0.0.1", proxy.target_port, timeout=30)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
                conn.request(self.command, self.path, body=body or None, headers=headers)
                response = conn.getresponse()
                self._send(response.status, response.read())
                conn.close()

            def _send(self, status, payload):
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            do_GET = do_PUT = do_POST = do_DELETE = _handle

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


# --- fixtures (imported by the tests/test_upstream_*.py modules) -----------------------------------
import pytest  # noqa: E402


@pytest.fixture(scope="module")
def upstream():
    server = Upstream().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def proxy(upstream):
    edge = Proxy(upstream.port)
    yield edge
    edge.close()


@pytest.fixture
def lago_mode(settings, upstream, proxy):
    """The console under test in upstream mode, talking to the upstream through the proxy."""
    proxy.mode, proxy.finalize_calls = "pass", 0
    proxy.calls.clear()
    settings.LAGO_API_URL = proxy.url
    settings.LAGO_API_KEY = upstream.key
    settings.LAGO_TIMEOUT_SECONDS = 1.5
    settings.LAGO_WEBHOOK_HMAC_KEY = "hmac-test-key"
    return proxy

"""Static files with DEBUG off: WhiteNoise serves them, under gunicorn after collectstatic as bin/serve does.

Measured before WhiteNoise: under gunicorn the admin had no CSS (every /static/ URL was a 404).
"""
import re
import socket
import subprocess
import sys
import time

import pytest
import requests

from tests.deploy_support import ROOT, manage, production_env

STARTUP_SECONDS = 60


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def gunicorn(tmp_path_factory):
    """collectstatic into a fresh STATIC_ROOT, then gunicorn with DEBUG off on a free loopback port."""
    tmp_path = tmp_path_factory.mktemp("serving")
    env = production_env(tmp_path, STATIC_ROOT=str(tmp_path / "static"))
    collected = manage(env, "collectstatic", "--noinput", "-v", "0", timeout=180)
    assert collected.returncode == 0, collected.stderr

    port = free_port()
    server = subprocess.Popen(
        # No control socket: its default path is shared by every gunicorn of this user.
        [sys.executable, "-m", "gunicorn", "billing_console.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "1", "--no-control-socket"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            if server.poll() is not None:
                pytest.fail(f"gunicorn exited with {server.returncode}: {server.stderr.read()}")
            try:
                requests.get(f"{base}/admin/login/", timeout=2)
                break
            except requests.ConnectionError:
                if time.monotonic() > deadline:
                    pytest.fail(f"gunicorn did not answer within {STARTUP_SECONDS} s")
                time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=5)


def test_the_admin_css_is_served_under_gunicorn(gunicorn):
    css = requests.get(f"{gunicorn}/static/admin/css/base.css", timeout=10)

    assert css.status_code == 200
    assert css.headers["Content-Type"].startswith("text/css")
    assert "body" in css.text


def test_the_login_page_links_hashed_css_that_is_then_served(gunicorn):
    login = requests.get(f"{gunicorn}/admin/login/", timeout=10)
    assert login.status_code == 200

    stylesheets = re.findall(r'<link rel="stylesheet" href="(/static/[^"]+\.css)"', login.text)
    base_css = [href for href in stylesheets if re.fullmatch(r"/static/admin/css/base\.[0-9a-f]{12}\.css", href)]
    assert base_css, stylesheets
    for href in stylesheets:
        css = requests.get(f"{gunicorn}{href}", headers={"Accept-Encoding": "gzip"}, timeout=10)
        assert css.status_code == 200, href
        assert css.headers["Content-Type"].startswith("text/css")
        # Hashed names never change content: cached for good, and served pre-compressed.
        assert "immutable" in css.headers["Cache-Control"]
        assert css.headers.get("Content-Encoding") == "gzip"


def test_the_consoles_own_stylesheet_is_collected_and_served(gunicorn):
    css = requests.get(f"{gunicorn}/static/console/admin.css", timeout=10)

    assert css.status_code == 200
    assert css.headers["Content-Type"].startswith("text/css")


def test_an_unknown_static_file_is_a_404(gunicorn):
    assert requests.get(f"{gunicorn}/static/admin/css/nope.css", timeout=10).status_code == 404


def test_static_files_are_served_in_tests_without_collectstatic(client):
    response = client.get("/static/admin/css/base.css")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/css")
    response.close()

"""Production settings: the HTTPS variables, their validation, and a clean `check --deploy`.

The settings module is read at import time, so the validation tests execute billing_console/settings.py
afresh with a patched environment (runpy) and `check --deploy` runs in a subprocess.
"""
import runpy

import pytest
from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured

from tests.deploy_support import ROOT, SECURITY_VARIABLES, manage, production_env

SETTINGS_FILE = ROOT / "billing_console" / "settings.py"
ALL_VARIABLES = [*SECURITY_VARIABLES, "DEBUG"]


@pytest.fixture
def load_settings(monkeypatch):
    """Execute the real settings module with the given variables (unset ones removed) and return its names."""

    def load(**variables):
        for name in ALL_VARIABLES:
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("SECRET_KEY", "x" * 60)
        for name, value in variables.items():
            monkeypatch.setenv(name, value)
        return runpy.run_path(str(SETTINGS_FILE))

    return load


# --- check --deploy ------------------------------------------------------------------------------


def test_check_deploy_is_clean_with_the_production_like_variables(tmp_path):
    result = manage(production_env(tmp_path, **SECURITY_VARIABLES), "check", "--deploy", "--fail-level", "WARNING")

    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "WARNINGS" not in output
    assert "no issues" in output


def test_check_deploy_warns_without_the_security_variables(tmp_path):
    result = manage(production_env(tmp_path), "check", "--deploy", "--fail-level", "WARNING")

    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "WARNINGS" in output
    for code in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert code in output
    # The key of production_env is long and random, and DEBUG is off: those two are not the problem.
    assert "security.W009" not in output
    assert "security.W018" not in output


def test_check_deploy_flags_a_short_secret_key(tmp_path):
    env = production_env(tmp_path, **SECURITY_VARIABLES, SECRET_KEY="too-short-for-production")

    result = manage(env, "check", "--deploy", "--fail-level", "WARNING")

    assert result.returncode != 0
    assert "security.W009" in result.stdout + result.stderr


# --- the variables -------------------------------------------------------------------------------


def test_https_settings_are_off_by_default(load_settings):
    s = load_settings()

    assert s["SECURE_SSL_REDIRECT"] is False
    assert s["SESSION_COOKIE_SECURE"] is False
    assert s["CSRF_COOKIE_SECURE"] is False
    assert s["SECURE_HSTS_SECONDS"] == 0
    assert s["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is False
    assert s["SECURE_HSTS_PRELOAD"] is False
    assert s["SECURE_PROXY_SSL_HEADER"] is None


def test_the_production_like_variables_turn_everything_on(load_settings):
    s = load_settings(**SECURITY_VARIABLES)

    assert s["SECURE_SSL_REDIRECT"] is True
    assert s["SESSION_COOKIE_SECURE"] is True
    assert s["CSRF_COOKIE_SECURE"] is True
    assert s["SECURE_HSTS_SECONDS"] == 31536000
    assert s["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert s["SECURE_HSTS_PRELOAD"] is True
    assert s["SECURE_PROXY_SSL_HEADER"] == ("HTTP_X_FORWARDED_PROTO", "https")


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({"SECURE_HSTS_SECONDS": "-1"}, "must not be negative"),
        ({"SECURE_HSTS_SECONDS": "one year"}, "whole number of seconds"),
        ({"SECURE_SSL_REDIRECT": "treu"}, "SECURE_SSL_REDIRECT must be true or false"),
        ({"SESSION_COOKIE_SECURE": "enabled"}, "SESSION_COOKIE_SECURE must be true or false"),
        ({"SECURE_HSTS_INCLUDE_SUBDOMAINS": "true"}, "need SECURE_HSTS_SECONDS > 0"),
        ({"SECURE_HSTS_PRELOAD": "true", "SECURE_HSTS_SECONDS": "0"}, "need SECURE_HSTS_SECONDS > 0"),
        ({"SECURE_PROXY_SSL_HEADER": "HTTP_X_FORWARDED_PROTO"}, "SECURE_PROXY_SSL_HEADER must be"),
        ({"SECURE_PROXY_SSL_HEADER": "X-Forwarded-Proto,https"}, "SECURE_PROXY_SSL_HEADER must be"),
        ({"SECURE_PROXY_SSL_HEADER": "HTTP_X_FORWARDED_PROTO,"}, "SECURE_PROXY_SSL_HEADER must be"),
    ],
)
def test_bad_values_fail_at_start_up(load_settings, variables, message):
    with pytest.raises(ImproperlyConfigured, match=message):
        load_settings(**variables)


# --- static files and storages -------------------------------------------------------------------


def test_whitenoise_comes_right_after_the_security_middleware(load_settings):
    middleware = load_settings()["MIDDLEWARE"]

    assert middleware[:2] == ["django.middleware.security.SecurityMiddleware", "whitenoise.middleware.WhiteNoiseMiddleware"]


def test_static_files_are_hashed_and_compressed_with_debug_off(load_settings):
    storages = load_settings(DEBUG="false")["STORAGES"]

    assert storages["staticfiles"]["BACKEND"] == "whitenoise.storage.CompressedManifestStaticFilesStorage"
    # No location: FileSystemStorage then uses MEDIA_ROOT, and keeps following it when tests change it.
    assert storages["default"] == {"BACKEND": "django.core.files.storage.FileSystemStorage"}


def test_debug_keeps_the_plain_static_storage(load_settings):
    storages = load_settings(DEBUG="true")["STORAGES"]

    assert storages["staticfiles"]["BACKEND"] == "django.contrib.staticfiles.storage.StaticFilesStorage"


def test_the_test_settings_need_no_collectstatic():
    assert django_settings.DEBUG is False
    assert django_settings.STORAGES["staticfiles"]["BACKEND"] == "django.contrib.staticfiles.storage.StaticFilesStorage"


# --- behind a TLS-terminating proxy --------------------------------------------------------------


def test_behind_the_proxy_plain_http_is_redirected_and_https_gets_hsts(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_HSTS_SECONDS = 3600

    plain = client.get("/admin/login/")
    forwarded = client.get("/admin/login/", headers={"X-Forwarded-Proto": "https"})

    assert plain.status_code == 301
    assert plain["Location"] == "https://testserver/admin/login/"
    assert forwarded.status_code == 200
    assert forwarded["Strict-Transport-Security"] == "max-age=3600"

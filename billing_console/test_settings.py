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
# Tests run with DEBUG off but without collectstatic: no manifest storage, and WhiteNoise serves the
# apps' static directories as it does under runserver (autorefresh: nothing scanned at start-up).
# The production path (collectstatic + manifest + gunicorn) is tested in tests/test_static_serving.py.
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}  # noqa: F405
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True


# The database is whatever DATABASE_URL says (bin/test runs the suite on PostgreSQL, then on SQLite);
# an unreachable server is an error, never a silent switch to another database.
DATABASES = {"default": env.db_url_config(os.environ.get("DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/billing_console")}  # noqa: F405
USING_POSTGRES = DATABASES["default"]["ENGINE"].endswith("postgresql")
use_prepared_statements(DATABASES["default"])  # noqa: F405
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE: a writing transaction takes the write lock at BEGIN, so two threads wait (timeout) instead
    # of failing to upgrade a read lock. A file, not Django's in-memory test database: live_server threads
    # (browser and Lago-client tests) must see the same database as the test.
    DATABASES["default"]["OPTIONS"] = {"timeout": 20, "transaction_mode": "IMMEDIATE"}
    _name = str(DATABASES["default"]["NAME"])
    DATABASES["default"]["TEST"] = {"NAME": (_name[:-len(".sqlite3")] if _name.endswith(".sqlite3") else _name) + "-test.sqlite3"}
# The webhook tests deliver to a receiver on 127.0.0.1; tests of the URL policy turn this off.
WEBHOOK_ALLOW_PRIVATE_URLS = True

"""Settings for the billing console, read from the environment (django-environ).

With no DATABASE_URL the console runs on an embedded SQLite file so that a
newcomer's first command works; production and CI use PostgreSQL.
Bad values fail loudly at start-up rather than half-working later.
"""
from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="dev-only-insecure-key" if DEBUG else "")
if not SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_q",
    "sequences",
    "audit",
    "customers",
    "addons",
    "plans",
    "usage",
    "subscriptions",
    "invoices",
    "webhooks",
    "accounts",
    "coupons",
    "wallets",
    "credit_notes",
    "api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "billing_console.urls"
WSGI_APPLICATION = "billing_console.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
# Persistent connections: django-q2's ORM broker calls close_old_connections() before every
# enqueue, which with CONN_MAX_AGE=0 means a new connection per queued task.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The worker and the web server share the file: wait for locks instead of failing.
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].setdefault("timeout", 20)
    DATABASES["default"]["OPTIONS"].setdefault("transaction_mode", "IMMEDIATE")

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(BASE_DIR / "media")))

LOGIN_URL = "admin:login"

# Identity of this instance towards webhook receivers (Lago's organization_id / LAGO_API_URL).
ORGANIZATION_ID = env.str("ORGANIZATION_ID", default="00000000-0000-0000-0000-000000000001")
PUBLIC_URL = env.str("PUBLIC_URL", default="http://127.0.0.1:8000")

# Webhook delivery (webhooks/delivery.py). The RS256 key of the `jwt` scheme comes from
# WEBHOOK_PRIVATE_KEY (a PEM) or else a PEM file generated on first use at WEBHOOK_PRIVATE_KEY_FILE.
WEBHOOK_PRIVATE_KEY = env.str("WEBHOOK_PRIVATE_KEY", default="").replace("\\n", "\n")
WEBHOOK_PRIVATE_KEY_FILE = Path(env.str("WEBHOOK_PRIVATE_KEY_FILE", default=str(BASE_DIR / "var" / "webhook_rsa_private_key.pem")))
WEBHOOK_MAX_ATTEMPTS = env.int("WEBHOOK_MAX_ATTEMPTS", default=3)
WEBHOOK_TIMEOUT_SECONDS = env.int("WEBHOOK_TIMEOUT_SECONDS", default=30)
WEBHOOK_RETRY_BASE_SECONDS = env.int("WEBHOOK_RETRY_BASE_SECONDS", default=60)
if WEBHOOK_MAX_ATTEMPTS < 1 or WEBHOOK_TIMEOUT_SECONDS < 1:
    raise ImproperlyConfigured("WEBHOOK_MAX_ATTEMPTS and WEBHOOK_TIMEOUT_SECONDS must be at least 1.")

# django-q2 with the ORM broker: no Redis, the queue lives in the database.
Q_CLUSTER = {
    "name": "billing-console",
    "orm": "default",
    "workers": env.int("Q_WORKERS", default=2),
    "timeout": env.int("Q_TIMEOUT", default=300),
    # retry must exceed timeout, or a slow task is handed to a second worker.
    "retry": env.int("Q_RETRY", default=360),
    "max_attempts": 5,
    "catch_up": False,
    "ack_failures": True,
    "save_limit": 1000,
    "poll": 1,
}
if Q_CLUSTER["retry"] <= Q_CLUSTER["timeout"]:
    raise ImproperlyConfigured("Q_RETRY must be larger than Q_TIMEOUT.")

# Render each finalized invoice's PDF in a task after commit (off: rendered on first download only).
INVOICE_PDF_AFTER_FINALIZATION = env.bool("INVOICE_PDF_AFTER_FINALIZATION", default=True)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # WeasyPrint logs seven progress lines per PDF at INFO.
    "loggers": {"weasyprint": {"level": "WARNING"}, "fontTools": {"level": "WARNING"}},
}

# --- Hardened edges (issue 14): admin sign-in throttling (django-axes), webhook URL policy --------
# django-axes locks out sign-ins after AXES_FAILURE_LIMIT failures for AXES_COOLOFF_TIME minutes,
# per (username, IP) and, separately, per IP (many usernames tried from one address). The lockout
# page is templates/admin/locked_out.html (HTTP 429). Unlock early: `manage.py axes_reset`
# (or axes_reset_ip / axes_reset_username).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first, as axes requires
    "django.contrib.auth.backends.ModelBackend",
]
INSTALLED_APPS += ["axes"]
MIDDLEWARE += ["axes.middleware.AxesMiddleware"]  # last, as axes requires
AXES_ENABLED = env.bool("AXES_ENABLED", default=True)
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_MINUTES = env.int("AXES_COOLOFF_TIME", default=15)  # minutes
AXES_COOLOFF_TIME = timedelta(minutes=AXES_COOLOFF_MINUTES)
# Each entry is its own lockout: the (username, IP) pair, and the IP alone (many usernames from one address).
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address"]
AXES_RESET_ON_SUCCESS = True
# The lockout page (templates/admin/locked_out.html, HTTP 429) says how long to wait.
AXES_LOCKOUT_CALLABLE = "accounts.lockout.lockout_response"
if AXES_FAILURE_LIMIT < 1 or AXES_COOLOFF_MINUTES < 1:
    raise ImproperlyConfigured("AXES_FAILURE_LIMIT must be at least 1 and AXES_COOLOFF_TIME (minutes) above 0.")

# Webhook endpoints may not point at loopback, private, link-local, reserved, multicast or
# unspecified addresses (webhooks/url_policy.py), at creation and again at delivery. True only
# where the receivers are local on purpose (tests, bin/demo).
WEBHOOK_ALLOW_PRIVATE_URLS = env.bool("WEBHOOK_ALLOW_PRIVATE_URLS", default=False)

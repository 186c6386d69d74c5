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


def env_flag(name: str, default: bool = False) -> bool:
    """A true/false variable; anything else is refused (django-environ reads a typo as false)."""
    raw = env.str(name, default="").strip()
    if raw == "":
        return default
    if raw.lower() in ("true", "1", "yes", "on"):
        return True
    if raw.lower() in ("false", "0", "no", "off"):
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {raw!r}.")


def env_seconds(name: str, default: int = 0) -> int:
    raw = env.str(name, default="").strip()
    try:
        value = int(raw) if raw else default
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number of seconds, not {raw!r}.") from None
    if value < 0:
        raise ImproperlyConfigured(f"{name} must not be negative, got {value}.")
    return value


# HTTPS (README "Running in production"). All off by default: local development is plain HTTP, where
# secure cookies would make signing in impossible. Behind a TLS-terminating proxy set them all.
SECURE_SSL_REDIRECT = env_flag("SECURE_SSL_REDIRECT")
SESSION_COOKIE_SECURE = env_flag("SESSION_COOKIE_SECURE")
CSRF_COOKIE_SECURE = env_flag("CSRF_COOKIE_SECURE")
SECURE_HSTS_SECONDS = env_seconds("SECURE_HSTS_SECONDS")
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_flag("SECURE_HSTS_INCLUDE_SUBDOMAINS")
SECURE_HSTS_PRELOAD = env_flag("SECURE_HSTS_PRELOAD")
if (SECURE_HSTS_INCLUDE_SUBDOMAINS or SECURE_HSTS_PRELOAD) and not SECURE_HSTS_SECONDS:
    # Django sends no HSTS header at all with 0 seconds: these two would silently do nothing.
    raise ImproperlyConfigured("SECURE_HSTS_INCLUDE_SUBDOMAINS and SECURE_HSTS_PRELOAD need SECURE_HSTS_SECONDS > 0.")
# "HTTP_X_FORWARDED_PROTO,https": the header (as in request.META) by which the proxy says the request
# came over HTTPS. Only behind a proxy that always sets or strips it, or clients can claim HTTPS.
_proxy_header = env.str("SECURE_PROXY_SSL_HEADER", default="").strip()
SECURE_PROXY_SSL_HEADER = None
if _proxy_header:
    _parts = [part.strip() for part in _proxy_header.split(",")]
    if len(_parts) != 2 or not _parts[0].startswith("HTTP_") or not _parts[1]:
        raise ImproperlyConfigured(
            f"SECURE_PROXY_SSL_HEADER must be 'HTTP_<HEADER>,<value>', e.g. 'HTTP_X_FORWARDED_PROTO,https', not {_proxy_header!r}."
        )
    SECURE_PROXY_SSL_HEADER = (_parts[0], _parts[1])

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
    "billing_run",
    "closing",
    "api",
    "demo",
    "upstream",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Static files under gunicorn (README "Running in production"); right after SecurityMiddleware
    # so its redirects and headers still apply, before everything that would touch the session.
    "whitenoise.middleware.WhiteNoiseMiddleware",
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


def use_prepared_statements(database: dict) -> None:
    """On PostgreSQL, parameters bound by the server and statements prepared on their second run: the
    dozen statements of each finalization are planned once per (persistent) connection, not each time.
    DATABASE_PREPARED_STATEMENTS=false turns it off (behind a transaction-pooling PgBouncer older than 1.21)."""
    if database["ENGINE"] == "django.db.backends.postgresql" and env.bool("DATABASE_PREPARED_STATEMENTS", default=True):
        database.setdefault("OPTIONS", {})
        database["OPTIONS"].setdefault("server_side_binding", True)
        database["OPTIONS"].setdefault("prepare_threshold", 2)


use_prepared_statements(DATABASES["default"])
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
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(BASE_DIR / "media")))

STORAGES = {
    # Uploaded and generated files (invoice and credit-note PDFs). FileSystemStorage's location is
    # MEDIA_ROOT when not given; not passing it keeps it following MEDIA_ROOT in tests.
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # With DEBUG off, static files are served by WhiteNoise from STATIC_ROOT under hashed, gzip- and
    # brotli-compressed names cached forever: `collectstatic` must have run (bin/serve runs it), or
    # every page that links a static file fails on the missing manifest. With DEBUG on (bin/demo,
    # runserver) the plain storage serves them from the apps' directories.
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

LOGIN_URL = "admin:login"

# Identity of this instance towards webhook receivers (Lago's organization_id / LAGO_API_URL).
ORGANIZATION_ID = env.str("ORGANIZATION_ID", default="00000000-0000-0000-0000-000000000001")

# The organization (this instance) and its default billing entity, which `migrate` creates when no
# entity is the default (customers/bootstrap.py); afterwards they are edited in the admin or the API.
ORGANIZATION_NAME = env.str("ORGANIZATION_NAME", default="Billing Console").strip()
DEFAULT_BILLING_ENTITY_CODE = env.str("DEFAULT_BILLING_ENTITY_CODE", default="default")
DEFAULT_CURRENCY = env.str("DEFAULT_CURRENCY", default="USD").upper()
DEFAULT_TIMEZONE = env.str("DEFAULT_TIMEZONE", default="UTC")
# Lago's default: the first three letters of the name and the last four characters of the id, upper-cased.
DOCUMENT_NUMBER_PREFIX = env.str("DOCUMENT_NUMBER_PREFIX", default=f"{ORGANIZATION_NAME[:3]}-{ORGANIZATION_ID[-4:]}").upper()


def _check_organization_settings():
    import re
    import uuid
    import zoneinfo

    from django.core.exceptions import ValidationError

    from core.money import validate_currency

    try:
        uuid.UUID(ORGANIZATION_ID)
    except ValueError:
        raise ImproperlyConfigured(f"ORGANIZATION_ID must be a UUID, not {ORGANIZATION_ID!r}.")
    if not 1 <= len(ORGANIZATION_NAME) <= 200:
        raise ImproperlyConfigured("ORGANIZATION_NAME must be 1 to 200 characters.")
    if not re.fullmatch(r"[-a-zA-Z0-9_]{1,64}", DEFAULT_BILLING_ENTITY_CODE):
        raise ImproperlyConfigured(f"DEFAULT_BILLING_ENTITY_CODE must be 1-64 letters, digits, - or _, not {DEFAULT_BILLING_ENTITY_CODE!r}.")
    try:
        validate_currency(DEFAULT_CURRENCY)
    except ValidationError:
        raise ImproperlyConfigured(f"DEFAULT_CURRENCY must be an ISO 4217 code with a minor unit, not {DEFAULT_CURRENCY!r}.")
    if DEFAULT_TIMEZONE not in zoneinfo.available_timezones():
        raise ImproperlyConfigured(f"DEFAULT_TIMEZONE must be an IANA time zone, not {DEFAULT_TIMEZONE!r}.")
    if not re.fullmatch(r"[A-Z0-9_-]{1,10}", DOCUMENT_NUMBER_PREFIX):
        raise ImproperlyConfigured(
            f"DOCUMENT_NUMBER_PREFIX {DOCUMENT_NUMBER_PREFIX!r} must be 1-10 letters, digits, - or _"
            " (the default is derived from ORGANIZATION_NAME: set DOCUMENT_NUMBER_PREFIX when that name starts otherwise).")


_check_organization_settings()
PUBLIC_URL = env.str("PUBLIC_URL", default="http://127.0.0.1:8000")

# Invoice and credit note PDFs (core/documents.py) live in the "default" storage: files
# under MEDIA_ROOT that no URL serves (MEDIA_URL is unused). They leave the console only through
# signed links under PUBLIC_URL that expire after DOCUMENT_URL_MAX_AGE_SECONDS (S3: see the README;
# STORAGES["default"] is defined above, beside the static files).
DOCUMENT_URL_MAX_AGE_SECONDS = env.int("DOCUMENT_URL_MAX_AGE_SECONDS", default=7 * 24 * 3600)
if not 60 <= DOCUMENT_URL_MAX_AGE_SECONDS <= 366 * 24 * 3600:
    raise ImproperlyConfigured("DOCUMENT_URL_MAX_AGE_SECONDS must be between 60 (a minute) and 31622400 (a year).")
if not PUBLIC_URL.startswith(("http://", "https://")):
    raise ImproperlyConfigured(f"PUBLIC_URL must be an absolute http(s) URL (document links are built from it), not {PUBLIC_URL!r}.")

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

# --- Upstream mode (issue 12): the console in front of a Lago server (README "In front of a Lago server") ---
# Each value may instead be set in the admin (upstream.models.UpstreamSettings); a variable set here wins.
# Off (the default) unless LAGO_API_URL is set (here or in the admin): the console is its own billing engine. On: invoices are
# mirrored from Lago by sync runs (upstream/sync.py) and every door finalizes through Lago (upstream/finalization.py).
LAGO_API_URL = env.str("LAGO_API_URL", default="").strip()
LAGO_API_KEY = env.str("LAGO_API_KEY", default="").strip()
LAGO_WEBHOOK_HMAC_KEY = env.str("LAGO_WEBHOOK_HMAC_KEY", default="").strip()
# The `iss` of Lago's jwt webhook signatures is Lago's own LAGO_API_URL; set this when the console reaches
# Lago by another address (an internal host name). Empty: LAGO_API_URL.
LAGO_WEBHOOK_ISSUER = env.str("LAGO_WEBHOOK_ISSUER", default="").strip()
# Where operators open an invoice in Lago's UI (its front end, often another host than the API). Empty: LAGO_API_URL.
LAGO_FRONT_URL = env.str("LAGO_FRONT_URL", default="").strip()


def _check_upstream_settings():
    from upstream.validation import api_url_error

    if LAGO_API_KEY and not LAGO_API_URL:
        raise ImproperlyConfigured("LAGO_API_KEY is set but LAGO_API_URL is not: set both for upstream mode, or neither.")
    if not LAGO_API_URL:
        return
    if error := api_url_error(LAGO_API_URL):
        raise ImproperlyConfigured(error)
    if not LAGO_API_KEY:
        raise ImproperlyConfigured("LAGO_API_URL is set: LAGO_API_KEY (the Lago organization's API key) is required too.")


def _env_positive(name: str, *, kind=int, maximum: float) -> float | None:
    """None when unset: upstream.config then takes the admin's value, or its default."""
    from upstream.validation import positive_error

    raw = env.str(name, default="").strip()
    if not raw:
        return None
    try:
        value = kind(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number, not {raw!r}.") from None
    if error := positive_error(value, name, maximum):
        raise ImproperlyConfigured(error)
    return value


_check_upstream_settings()
# Unset (None): the admin's Upstream settings, else 15 minutes and 10 s (upstream/config.py reads the effective values).
LAGO_SYNC_INTERVAL_MINUTES = _env_positive("LAGO_SYNC_INTERVAL_MINUTES", kind=int, maximum=24 * 60)
# Every call to Lago (finalize included: the client's own 5 s for custom actions is not used, upstream/client.py).
LAGO_TIMEOUT_SECONDS = _env_positive("LAGO_TIMEOUT_SECONDS", kind=float, maximum=120)

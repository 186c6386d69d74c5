"""Is upstream mode on, and how to reach Lago: the effective configuration, read here by every caller.

Each value comes from the environment (Django settings, billing_console/settings.py) when set there, else from
the admin's `UpstreamSettings` row, else its default. The row is cached per process for CACHE_SECONDS, and
dropped at once in the process that saves it (post_save, upstream/apps.py); other processes (web workers,
qcluster) see an admin change within CACHE_SECONDS. Settings are read at each call (tests override them).
"""
import time

from django.conf import settings

CACHE_SECONDS = 30
DEFAULT_SYNC_INTERVAL_MINUTES = 15
DEFAULT_TIMEOUT_SECONDS = 10.0
# field of UpstreamSettings -> the setting (environment variable) that wins over it when set
ENVIRONMENT = {
    "api_url": "LAGO_API_URL", "api_key": "LAGO_API_KEY", "front_url": "LAGO_FRONT_URL",
    "webhook_hmac_key": "LAGO_WEBHOOK_HMAC_KEY", "sync_interval_minutes": "LAGO_SYNC_INTERVAL_MINUTES",
    "timeout_seconds": "LAGO_TIMEOUT_SECONDS",
}
_cache: dict = {"values": None, "at": 0.0}


def forget(*, stored: dict | None = None, **kwargs) -> None:
    """Drop the cached row (a save, a delete); `stored` instead sets what the row holds (tests: {} after a rollback)."""
    _cache["values"], _cache["at"] = stored, time.monotonic()


def stored() -> dict:
    """The admin's values ({} without a row), at most CACHE_SECONDS old."""
    if _cache["values"] is None or time.monotonic() - _cache["at"] > CACHE_SECONDS:
        from .models import UpstreamSettings

        row = UpstreamSettings.objects.filter(pk=UpstreamSettings.SINGLETON_ID).values(*ENVIRONMENT).first()
        forget(stored=row or {})
    return _cache["values"]


def from_environment(field: str) -> bool:
    return getattr(settings, ENVIRONMENT[field], None) not in (None, "")


def _value(field: str, default=None):
    if from_environment(field):
        return getattr(settings, ENVIRONMENT[field])
    value = stored().get(field)
    return default if value in (None, "") else value


def api_url() -> str:
    return _value("api_url", "")


def api_key() -> str:
    return _value("api_key", "")


def webhook_hmac_key() -> str:
    return _value("webhook_hmac_key", "")


def sync_interval_minutes() -> int:
    return _value("sync_interval_minutes", DEFAULT_SYNC_INTERVAL_MINUTES)


def timeout_seconds() -> float:
    return float(_value("timeout_seconds", DEFAULT_TIMEOUT_SECONDS))


def webhook_issuer() -> str:
    """The `iss` of Lago's jwt webhooks: LAGO_WEBHOOK_ISSUER (environment only), else the API URL."""
    return (getattr(settings, "LAGO_WEBHOOK_ISSUER", "") or api_url()).rstrip("/")


def enabled() -> bool:
    # Without a URL in the environment, the admin's row decides (one cached query).
    return bool(api_url())


def invoice_url(invoice_id) -> str:
    """Where an operator sees the invoice in Lago itself (its front end serves /invoice/<id>/overview)."""
    front = _value("front_url", "") or api_url()
    return f"{front.rstrip('/')}/invoice/{invoice_id}/overview"

"""The rules for upstream mode's configuration, shared by the environment (billing_console/settings.py, at start-up)
and the admin's form (upstream/admin.py). Pure functions: importable from settings, before Django is set up."""
from urllib.parse import urlsplit

MAX_SYNC_INTERVAL_MINUTES = 24 * 60
MAX_TIMEOUT_SECONDS = 120


def api_url_error(url: str, name: str = "LAGO_API_URL") -> str | None:
    """Why `url` is no Lago origin lago-python-client can use (it joins "api/v1/" itself), or None."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return f"{name} must be an absolute http(s) URL, not {url!r}."
    if parts.path.rstrip("/").endswith("api/v1") or (parts.path not in ("", "/") and not parts.path.endswith("/")):
        return (f"{name} is the Lago server's origin (e.g. https://lago.example.com), not {url!r}: "
                "the client adds /api/v1 itself, and a path prefix needs a trailing slash.")
    if parts.query or parts.fragment:
        return f"{name} must not carry a query or fragment: {url!r}."
    return None


def url_error(url: str, name: str) -> str | None:
    """A plain absolute http(s) URL (Lago's front end)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return f"{name} must be an absolute http(s) URL, not {url!r}."
    return None


def positive_error(value, name: str, maximum: float) -> str | None:
    if not 0 < value <= maximum:
        return f"{name} must be above 0 and at most {maximum}, got {value}."
    return None

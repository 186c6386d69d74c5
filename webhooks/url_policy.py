"""Where webhooks may be sent: http(s) URLs of public hosts only (no SSRF into internal services).

`validate_webhook_url` is the one check of a URL, called by the API (api/views/webhook_endpoints.py)
and the admin form (webhooks/admin.py) at creation and update. It refuses other schemes, URLs
without a host, and hosts that are, or resolve to (socket.getaddrinfo), a loopback, link-local,
private, shared (100.64/10), reserved, multicast or unspecified address, IPv4 or IPv6, IPv4-mapped
and 6to4/Teredo-embedded IPv4 included. A host that does not resolve yet is accepted there (as
Lago does): delivery checks again.

Delivery (webhooks/delivery.py) goes through `guarded_session()`, whose connections resolve the
host, refuse (`BlockedAddress`) if any address is not public, and connect to the checked address
itself, so a DNS answer that changed since creation (or between check and connect) cannot reach
an internal service.

WEBHOOK_ALLOW_PRIVATE_URLS=true (settings; tests and bin/demo) turns the address checks off, not
the scheme check.
"""
import ipaddress
import socket
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.core.exceptions import ValidationError
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError

ERROR_CODE = "url_is_invalid"


class BlockedAddress(Exception):
    """The webhook host is, or resolves to, an address webhooks may not be sent to."""


def private_urls_allowed() -> bool:
    return bool(getattr(settings, "WEBHOOK_ALLOW_PRIVATE_URLS", False))


def blocked_reason(ip) -> str | None:
    """Why this address is refused, or None if it is a public unicast address."""
    ip = ipaddress.ip_address(ip)
    if ip.version == 6:
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is not None:
            reason = blocked_reason(embedded)
            return f"{reason} (embedded in {ip})" if reason else None
    for flag, name in [("is_unspecified", "unspecified"), ("is_loopback", "loopback"), ("is_link_local", "link-local"),
                       ("is_multicast", "multicast"), ("is_private", "private"), ("is_reserved", "reserved")]:
        if getattr(ip, flag):
            return f"{name} address {ip}"
    if not ip.is_global:
        return f"non-public address {ip}"
    return None


def resolve(host: str, port: int | None) -> list[str]:
    """The addresses the host resolves to (an IP literal is itself). socket.gaierror if it does not."""
    infos = socket.getaddrinfo(host, port or 0, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(info[4][0].split("%", 1)[0] for info in infos))


def check_host(host: str, port: int | None) -> list[str]:
    """The host's addresses, all public; BlockedAddress otherwise (socket.gaierror if it does not resolve)."""
    addresses = resolve(host, port)
    for address in addresses:
        reason = blocked_reason(address)
        if reason:
            raise BlockedAddress(f"webhook host {host} resolves to a {reason}: refused")
    return addresses


def url_problem(url: str, *, allow_private: bool | None = None) -> str | None:
    """Why this URL may not receive webhooks, or None."""
    try:
        parts = urlsplit(url)
        host, port = parts.hostname, parts.port
    except ValueError as exc:
        return f"not a URL ({exc})"
    if parts.scheme not in ("http", "https"):
        return "only http and https URLs are accepted"
    if not host:
        return "the URL has no host"
    if private_urls_allowed() if allow_private is None else allow_private:
        return None
    try:
        check_host(host, port)
    except BlockedAddress as exc:
        return str(exc)
    except (socket.gaierror, UnicodeError):
        return None  # not resolvable now: accepted, delivery checks again
    return None


def validate_webhook_url(url: str) -> None:
    """ValidationError(code="url_is_invalid") unless `url` may receive webhooks."""
    problem = url_problem(url)
    if problem:
        raise ValidationError(f"This URL cannot receive webhooks: {problem}.", code=ERROR_CODE)


# --- delivery: check at connect time, connect to the checked address -----------------------------

class _GuardMixin:
    """Resolve once, check every address, then connect to a checked address (not to the name again)."""

    def _new_conn(self):
        name = self._dns_host  # self.host stays the name: Host header, SNI and certificate check use it
        try:
            addresses = check_host(name, self.port)
        except socket.gaierror as exc:
            raise NameResolutionError(self.host, self, exc) from exc
        error = None
        try:
            for address in addresses:
                self._dns_host = address
                try:
                    return super()._new_conn()
                except (NewConnectionError, ConnectTimeoutError) as exc:
                    error = exc
        finally:
            self._dns_host = name
        raise error


class _GuardedHTTPConnection(_GuardMixin, HTTPConnection):
    pass


class _GuardedHTTPSConnection(_GuardMixin, HTTPSConnection):
    pass


class _GuardedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _GuardedHTTPConnection


class _GuardedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _GuardedHTTPSConnection


class GuardedAdapter(HTTPAdapter):
    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _GuardedHTTPPool, "https": _GuardedHTTPSPool}


def guarded_session() -> requests.Session:
    """A session for delivering webhooks. Unless private URLs are allowed, every connection is checked
    and environment proxies are ignored (through a proxy, the check would see the proxy's address)."""
    session = requests.Session()
    if not private_urls_allowed():
        session.trust_env = False
        adapter = GuardedAdapter()
        session.mount("http://", adapter)
        session.mount("https://", adapter)
    return session

"""Webhook URLs: http(s) to public hosts only (no SSRF), checked at creation/update (API and admin)
and again when delivering; duplicates refused as in Lago. WEBHOOK_ALLOW_PRIVATE_URLS turns the
address checks off (test settings and bin/demo set it)."""
import socket

import pytest
from django.db import transaction

from tests import factories
from tests.api_support import assert_error
from tests.webhook_receiver import Receiver
from webhooks import delivery as webhook_delivery
from webhooks import outbox
from webhooks.models import WebhookDelivery, WebhookEndpoint
from webhooks.url_policy import blocked_reason, url_problem

BLOCKED = [
    "127.0.0.1", "127.8.9.10",                      # loopback
    "10.0.0.1", "172.16.5.4", "192.168.1.1",        # private
    "169.254.169.254",                              # link-local (cloud metadata)
    "100.64.0.1",                                   # shared address space (carrier-grade NAT)
    "0.0.0.0",                                      # unspecified
    "224.0.0.1", "239.255.255.250",                 # multicast
    "240.0.0.1", "255.255.255.255",                 # reserved, broadcast
    "192.0.2.1", "198.18.0.1",                      # documentation, benchmarking
    "::1",                                          # IPv6 loopback
    "::",                                           # IPv6 unspecified
    "fe80::1",                                      # IPv6 link-local
    "fc00::1", "fd12:3456::1",                      # IPv6 unique local
    "ff02::1",                                      # IPv6 multicast
    "2001:db8::1",                                  # IPv6 documentation
    "::ffff:127.0.0.1", "::ffff:169.254.169.254", "::ffff:10.1.2.3",  # IPv4-mapped
    "2002:7f00:1::1",                               # 6to4 around 127.0.0.1
]
PUBLIC = ["93.184.215.14", "8.8.8.8", "2606:4700:4700::1111", "::ffff:8.8.8.8"]


@pytest.mark.parametrize("address", BLOCKED)
def test_blocked_addresses(address):
    assert blocked_reason(address)


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses(address):
    assert blocked_reason(address) is None


@pytest.fixture
def entity(db):
    return factories.billing_entity(code="acme", is_default=True)


@pytest.fixture
def dns(monkeypatch):
    """Names → addresses for socket.getaddrinfo; other names do not resolve; IP literals are themselves."""
    table = {}
    real = socket.getaddrinfo

    def fake(host, port, *args, **kwargs):
        if host in table:
            family = socket.AF_INET6 if ":" in table[host] else socket.AF_INET
            return [(family, socket.SOCK_STREAM, 6, "", (table[host], port or 0))]
        try:
            return real(host, port, *args, flags=socket.AI_NUMERICHOST, **{k: v for k, v in kwargs.items() if k != "flags"})
        except socket.gaierror:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    return table


def _post(api, url, **extra):
    return api.post("webhook_endpoints", {"webhook_endpoint": {"webhook_url": url, **extra}})


PRIVATE_URLS = [
    "http://169.254.169.254/latest/meta-data/",
    "http://127.0.0.1:8000/hooks",
    "http://localhost/hooks",
    "http://[::1]:8080/hooks",
    "http://[::ffff:127.0.0.1]/hooks",
    "https://10.0.0.8/hooks",
    "http://2130706433/hooks",          # 127.0.0.1 written as one decimal number
    "http://0x7f.1/hooks",              # … in hex shorthand
    "http://internal.example.com/hooks",  # a name that resolves to a private address
    "http://metadata.example.com/",       # … to the metadata service
    "http://v6.example.com/",             # … to an IPv6 link-local one
]


@pytest.mark.parametrize("url", PRIVATE_URLS)
def test_private_urls_are_refused_when_the_setting_is_off(api, entity, settings, dns, url):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = False
    dns.update({"localhost": "127.0.0.1", "internal.example.com": "10.1.2.3", "metadata.example.com": "169.254.169.254",
                "v6.example.com": "fe80::1"})
    assert_error(_post(api, url), 422, error_details={"webhook_url": ["url_is_invalid"]})
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize("url", PRIVATE_URLS[:6])
def test_private_urls_are_accepted_when_the_setting_is_on(api, entity, settings, dns, url):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = True
    dns["localhost"] = "127.0.0.1"
    assert _post(api, url).status_code == 200


def test_public_and_unresolvable_hosts_are_accepted(api, entity, settings, dns):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = False
    dns["erp.example.com"] = "93.184.215.14"
    assert _post(api, "https://erp.example.com/hooks").status_code == 200
    assert _post(api, "https://8.8.8.8/hooks").status_code == 200
    # Not resolvable now (accepted, as Lago): delivery checks the address again.
    assert _post(api, "https://not-yet.example.invalid/hooks").status_code == 200


@pytest.mark.parametrize("on", [True, False])
@pytest.mark.parametrize("url", ["ftp://erp.example.com/x", "file:///etc/passwd", "gopher://1.2.3.4/", "http:///nohost", "javascript:alert(1)"])
def test_only_http_and_https_whatever_the_setting(api, entity, settings, url, on):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = on
    assert_error(_post(api, url), 422, error_details={"webhook_url": ["url_is_invalid"]})


def test_update_to_a_private_url_is_refused(api, entity, settings, dns):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = False
    dns["erp.example.com"] = "93.184.215.14"
    lago_id = _post(api, "https://erp.example.com/hooks").json()["webhook_endpoint"]["lago_id"]
    response = api.put(f"webhook_endpoints/{lago_id}", {"webhook_endpoint": {"webhook_url": "http://169.254.169.254/"}})
    assert_error(response, 422, error_details={"webhook_url": ["url_is_invalid"]})
    assert WebhookEndpoint.objects.get().webhook_url == "https://erp.example.com/hooks"


def test_duplicate_urls_are_refused_on_create_and_update(api, entity):
    first = _post(api, "https://erp.test/hooks").json()["webhook_endpoint"]["lago_id"]
    assert_error(_post(api, "https://erp.test/hooks", name="again"), 422, error_details={"webhook_url": ["value_already_exist"]})
    second = _post(api, "https://crm.test/hooks").json()["webhook_endpoint"]["lago_id"]
    response = api.put(f"webhook_endpoints/{second}", {"webhook_endpoint": {"webhook_url": "https://erp.test/hooks"}})
    assert_error(response, 422, error_details={"webhook_url": ["value_already_exist"]})
    # Sending its own URL again is no duplicate.
    assert api.put(f"webhook_endpoints/{first}", {"webhook_endpoint": {"webhook_url": "https://erp.test/hooks"}}).status_code == 200
    assert WebhookEndpoint.objects.count() == 2


def test_admin_form_applies_the_same_policy(admin_client, entity, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = False
    add = "/admin/webhooks/webhookendpoint/add/"
    form = {"name": "x", "signature_algo": "hmac", "event_types": "[]"}
    page = admin_client.post(add, {**form, "webhook_url": "http://169.254.169.254/latest"})
    assert page.status_code == 200 and b"This URL cannot receive webhooks" in page.content
    assert not WebhookEndpoint.objects.exists()
    assert admin_client.post(add, {**form, "webhook_url": "https://erp.test/hooks"}).status_code == 302
    page = admin_client.post(add, {**form, "webhook_url": "https://erp.test/hooks"})
    assert page.status_code == 200 and b"A webhook endpoint with this URL already exists." in page.content
    assert WebhookEndpoint.objects.count() == 1


def test_url_problem_is_none_for_allowed_private_urls():
    assert url_problem("http://127.0.0.1/x", allow_private=True) is None
    assert "loopback" in url_problem("http://127.0.0.1/x", allow_private=False)


# --- delivery checks again ---------------------------------------------------------------------

def _queued_delivery(entity, url):
    WebhookEndpoint.objects.create(webhook_url=url, signature_algo="hmac")
    with transaction.atomic():
        outbox.record("customer.created", factories.customer(entity))
    return WebhookDelivery.objects.get()


def test_delivery_refuses_a_private_address(entity, settings):
    with Receiver() as receiver:
        row = _queued_delivery(entity, receiver.url)  # saved while private URLs were allowed
        settings.WEBHOOK_ALLOW_PRIVATE_URLS = False
        webhook_delivery.deliver(row.pk)
        assert receiver.requests == []
        row.refresh_from_db()
        assert row.status == WebhookDelivery.Status.RETRYING and row.attempts == 1 and row.last_response_code is None
        assert "not sent" in row.last_error and "loopback address 127.0.0.1" in row.last_error

        settings.WEBHOOK_ALLOW_PRIVATE_URLS = True
        webhook_delivery.deliver(row.pk)
        row.refresh_from_db()
        assert row.status == WebhookDelivery.Status.SUCCEEDED and len(receiver.requests) == 1


def test_delivery_refuses_a_name_that_now_resolves_to_a_private_address(entity, settings, dns):
    """DNS rebinding: public when the endpoint was saved, loopback when delivering."""
    with Receiver() as receiver:
        port = receiver.server.server_address[1]
        settings.WEBHOOK_ALLOW_PRIVATE_URLS = False
        dns["hooks.example.com"] = "93.184.215.14"
        row = _queued_delivery(entity, f"http://hooks.example.com:{port}/hooks")
        dns["hooks.example.com"] = "127.0.0.1"
        for _ in range(settings.WEBHOOK_MAX_ATTEMPTS):
            webhook_delivery.deliver(row.pk)
        row.refresh_from_db()
        assert receiver.requests == []
        assert row.status == WebhookDelivery.Status.FAILED and "hooks.example.com resolves to a loopback" in row.last_error


def test_delivery_does_not_follow_redirects(entity, settings):
    with Receiver(statuses=[302]) as receiver:
        row = _queued_delivery(entity, receiver.url)
        webhook_delivery.deliver(row.pk)
        row.refresh_from_db()
        assert row.last_response_code == 302 and row.status == WebhookDelivery.Status.RETRYING
        assert len(receiver.requests) == 1

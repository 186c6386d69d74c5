"""Upstream mode configured in the admin (issue 12: "Set LAGO_API_URL and LAGO_API_KEY (or the same in the admin)"):
superusers only, keys write-only, audited without the keys, the environment's rules as form errors, the environment
winning when set, the sync schedule following the interval, and finalization through the real upstream subprocess."""
import json

import pytest
from django.urls import reverse
from django_q.models import Schedule

from audit.models import AuditLogEntry
from invoices.models import Invoice
from upstream import config, sync
from upstream.models import UpstreamSettings
from upstream.schedules import SCHEDULE_NAME

from .test_admin_api import api_client, post, url
from .upstream_support import proxy, upstream  # noqa: F401

pytestmark = pytest.mark.django_db
CHANGE = reverse("admin:upstream_upstreamsettings_change", args=[UpstreamSettings.SINGLETON_ID])


@pytest.fixture
def no_environment(settings):
    """None of the LAGO_* variables set: the admin's values apply."""
    for name in config.ENVIRONMENT.values():
        setattr(settings, name, None if name in ("LAGO_SYNC_INTERVAL_MINUTES", "LAGO_TIMEOUT_SECONDS") else "")
    return settings


def form(**values) -> dict:
    return {"api_url": "", "api_key": "", "front_url": "", "webhook_hmac_key": "", "sync_interval_minutes": "",
            "timeout_seconds": "", **values}


def test_upstream_mode_turned_on_in_the_admin_finalizes_through_the_real_upstream(
        no_environment, admin_client, admin_user, upstream, proxy, operator):
    assert not config.enabled() and not Schedule.objects.filter(name=SCHEDULE_NAME).exists()
    response = admin_client.post(CHANGE, form(api_url=proxy.url, api_key=upstream.key, webhook_hmac_key="whk-123456789",
                                              sync_interval_minutes="7", timeout_seconds="5"))
    assert response.status_code == 302, response.content.decode()

    row = UpstreamSettings.objects.get()
    assert (row.api_url, row.api_key, row.sync_interval_minutes, row.timeout_seconds, row.updated_by) == (
        proxy.url, upstream.key, 7, 5.0, admin_user)
    assert config.enabled() and config.api_url() == proxy.url and config.timeout_seconds() == 5.0
    assert Schedule.objects.get(name=SCHEDULE_NAME).minutes == 7  # the schedule follows the admin

    entry = AuditLogEntry.objects.get(action="upstream.settings_changed")
    assert entry.user == admin_user and entry.object_id == "1"
    assert entry.after == {"api_url": proxy.url, "sync_interval_minutes": 7, "timeout_seconds": 5.0,
                           "api_key": "changed", "webhook_hmac_key": "changed"}
    assert entry.before["api_key"] == "not set"
    snapshot = json.dumps([entry.before, entry.after])
    assert upstream.key not in snapshot and "whk-123456789" not in snapshot

    # Finalization goes through Lago now: the upstream's invoice is finalized, the mirror follows.
    [pk] = upstream.seed(1, drafts=1, prefix="adm")
    assert sync.sync_invoice(pk, trigger="test").ok
    calls = proxy.finalize_calls
    response = post(api_client(operator), url(pk))
    assert response.status_code == 200, response.content
    assert upstream.get(f"invoices/{pk}")["invoice"]["status"] == "finalized"
    assert Invoice.objects.get(pk=pk).status == "finalized" and proxy.finalize_calls == calls + 1

    # A new interval reaches django-q2; the keys left blank keep what is stored; upstream mode off removes the schedule.
    assert admin_client.post(CHANGE, form(api_url=proxy.url, sync_interval_minutes="3")).status_code == 302
    row.refresh_from_db()
    assert (row.api_key, row.webhook_hmac_key) == (upstream.key, "whk-123456789")
    assert Schedule.objects.get(name=SCHEDULE_NAME).minutes == 3
    [latest] = AuditLogEntry.objects.filter(action="upstream.settings_changed", after__sync_interval_minutes=3)
    assert latest.before == {"sync_interval_minutes": 7, "timeout_seconds": 5.0} and latest.after == {
        "sync_interval_minutes": 3, "timeout_seconds": None}
    assert admin_client.post(CHANGE, form(forget_api_key="on")).status_code == 302
    assert not config.enabled() and not Schedule.objects.filter(name=SCHEDULE_NAME).exists()
    assert UpstreamSettings.objects.get().api_key == ""


def test_the_keys_are_write_only(no_environment, admin_client):
    UpstreamSettings.objects.create(api_url="https://lago.example.com", api_key="secret-key-abcd1234")
    page = admin_client.get(CHANGE).content.decode()
    assert "secret-key-abcd1234" not in page and "Stored: •••• 1234" in page
    assert 'name="api_key"' in page and 'type="password"' in page


def test_the_environment_wins_and_the_page_says_so(no_environment, admin_client, upstream, proxy):
    UpstreamSettings.objects.create(api_url="http://127.0.0.1:9", api_key="not-this-one", sync_interval_minutes=7)
    config.forget()
    assert config.api_url() == "http://127.0.0.1:9" and config.sync_interval_minutes() == 7
    no_environment.LAGO_API_URL, no_environment.LAGO_API_KEY = proxy.url, upstream.key
    no_environment.LAGO_SYNC_INTERVAL_MINUTES = 30
    assert (config.api_url(), config.api_key(), config.sync_interval_minutes()) == (proxy.url, upstream.key, 30)
    assert sync.run_full_sync().ok  # reached the upstream by the environment's URL and key, not the admin's
    page = admin_client.get(CHANGE).content.decode()
    assert "LAGO_API_URL is set in the environment: its value applies, not this one." in page
    assert "LAGO_SYNC_INTERVAL_MINUTES is set in the environment" in page
    assert "LAGO_FRONT_URL is set in the environment" not in page


@pytest.mark.parametrize("values, field, message", [
    ({"api_url": "https://lago.example.com/api/v1", "api_key": "k"}, "api_url", "origin"),
    ({"api_url": "lago.example.com", "api_key": "k"}, "api_url", "absolute http(s) URL"),
    ({"api_url": "https://lago.example.com"}, "api_key", "needs the Lago organization's API key"),
    ({"sync_interval_minutes": "0"}, "sync_interval_minutes", "must be above 0"),
    ({"timeout_seconds": "-1"}, "timeout_seconds", "must be above 0"),
    ({"timeout_seconds": "500"}, "timeout_seconds", "at most 120"),
    ({"front_url": "ftp://x"}, "front_url", "absolute http(s) URL"),
])
def test_bad_values_are_form_errors_and_change_nothing(no_environment, admin_client, values, field, message):
    response = admin_client.post(CHANGE, form(**values))
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert message in " ".join(errors[field]), errors
    row = UpstreamSettings.objects.get()
    assert (row.api_url, row.api_key, row.sync_interval_minutes, row.timeout_seconds) == ("", "", None, None)
    assert not AuditLogEntry.objects.filter(action="upstream.settings_changed").exists() and not config.enabled()


def test_only_superusers_see_or_change_the_settings(no_environment, operator_client, operator):
    operator.user_permissions.add(*__import__("django.contrib.auth.models", fromlist=["Permission"]).Permission.objects.filter(
        content_type__app_label="upstream", codename__endswith="upstreamsettings"))  # even with the model permissions
    assert operator_client.get(CHANGE).status_code == 403
    assert operator_client.post(CHANGE, form(api_url="https://lago.example.com", api_key="k")).status_code == 403
    assert operator_client.get(reverse("admin:upstream_upstreamsettings_changelist")).status_code == 403
    assert "upstreamsettings" not in operator_client.get(reverse("admin:index")).content.decode()
    assert not UpstreamSettings.objects.filter(api_url__gt="").exists() and not config.enabled()

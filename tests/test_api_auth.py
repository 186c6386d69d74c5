"""Bearer API keys: created hashed, shown once, revocable; everything else is a JSON 401."""
import hashlib
from io import StringIO

import pytest
from django.core.management import call_command

from api.models import ApiKey
from tests.api_support import ApiClient, assert_error
from tests import factories


@pytest.mark.django_db
def test_create_api_key_command_prints_the_key_once_and_stores_only_its_hash():
    out = StringIO()
    call_command("create_api_key", "billing-sync", stdout=out)
    raw = out.getvalue().strip()
    key = ApiKey.objects.get(name="billing-sync")
    assert raw.startswith("bc_") and len(raw) > 40
    assert key.hashed_key == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in (key.hashed_key, key.prefix) and raw.startswith(key.prefix)
    factories.billing_entity()
    assert ApiClient(raw).get("billing_entities").status_code == 200
    from audit.models import AuditLogEntry

    entry = AuditLogEntry.objects.get(action="api_key.created")
    assert entry.source == "command" and entry.after == {"name": "billing-sync", "prefix": key.prefix}


@pytest.mark.django_db
def test_duplicate_key_name_is_refused():
    ApiKey.issue("dup")
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("create_api_key", "dup", stdout=StringIO())


@pytest.mark.django_db
@pytest.mark.parametrize("header", [None, "Bearer", "Bearer wrong", "Basic abc", "bc_nobearer"])
def test_missing_or_wrong_key_is_a_json_401(header):
    client = ApiClient(None)
    if header:
        client.headers = {"Authorization": header}
    body = assert_error(client.get("billing_entities"), 401)
    assert body == {"status": 401, "error": "Unauthorized"}


@pytest.mark.django_db
def test_revoked_key_is_refused(api_key):
    key, raw = api_key
    assert ApiClient(raw).get("customers").status_code == 200
    key.revoke()
    assert_error(ApiClient(raw).get("customers"), 401)


@pytest.mark.django_db
def test_writes_are_audited_with_the_key_as_actor(api):
    from audit.models import AuditLogEntry

    entity = factories.billing_entity(is_default=True)
    response = api.put(f"billing_entities/{entity.code}", {"billing_entity": {"name": "Renamed"}})
    assert response.status_code == 200
    entry = AuditLogEntry.objects.get(action="billing_entity.updated")
    assert (entry.source, entry.api_key_name, entry.actor_label) == ("api", "integration", "api key: integration")
    assert entry.before == {"name": "Acme Billing"} and entry.after == {"name": "Renamed"}


@pytest.mark.django_db
def test_admin_creates_a_key_and_shows_it_once(admin_client):
    response = admin_client.post("/admin/api/apikey/add/", {"name": "from-admin"}, follow=True)
    assert response.status_code == 200
    shown = [str(m) for m in response.context["messages"]]
    key = ApiKey.objects.get(name="from-admin")
    raw = next(word for m in shown for word in m.split() if word.startswith("bc_"))
    assert key.hashed_key == hashlib.sha256(raw.encode()).hexdigest()
    response = admin_client.post("/admin/api/apikey/", {"action": "revoke", "_selected_action": [str(key.pk)]}, follow=True)
    key.refresh_from_db()
    assert key.revoked_at is not None
    from audit.models import AuditLogEntry

    assert list(AuditLogEntry.objects.order_by("created_at").values_list("action", "source")) == [
        ("api_key.created", "admin"), ("api_key.revoked", "admin")]

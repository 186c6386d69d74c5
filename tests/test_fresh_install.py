"""A fresh install: after `migrate` (the test database) and `create_api_key`, the API works.

Lago always has an organization with a default billing entity; `migrate` creates it from the
settings (customers/bootstrap.py). Nothing here creates a billing entity by hand.
"""
import io
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.test import Client

from customers.bootstrap import ensure_default_billing_entity
from customers.models import BillingEntity
from tests.seed_bodies import SEED_004_BODY

BASE_DIR = Path(__file__).resolve().parent.parent



def _create_api_key(name="erp-sync") -> str:
    out = io.StringIO()
    call_command("create_api_key", name, stdout=out)
    return out.getvalue().strip()


class Http:
    """The API as a client sees it: JSON over the full request stack, Bearer key."""

    def __init__(self, key):
        self.client, self.headers = Client(), {"Authorization": f"Bearer {key}"}

    def __call__(self, method, path, body=None, raw=None):
        data = raw if raw is not None else json.dumps(body) if body is not None else ""
        return getattr(self.client, method)(f"/api/v1/{path}", data=data if method != "get" else {},
                                            content_type="application/json", headers=self.headers)


@pytest.mark.django_db
def test_seed_004_works_on_a_fresh_install():
    http = Http(_create_api_key())
    response = http("post", "customers", {"customer": {"external_id": "hooli_1234", "currency": "USD"}})
    assert response.status_code == 200, response.content
    assert response.json()["customer"]["billing_entity_code"] == settings.DEFAULT_BILLING_ENTITY_CODE
    for code, amount in (("setup_fee", 50000), ("customer_success", 100000)):
        response = http("post", "add_ons", {"add_on": {"name": code, "code": code, "amount_cents": amount, "amount_currency": "USD"}})
        assert response.status_code == 200, response.content

    response = http("post", "invoices", raw=SEED_004_BODY)

    assert response.status_code == 200, response.content
    invoice = response.json()["invoice"]
    assert invoice["status"] == "finalized" and invoice["number"]
    assert invoice["number"].startswith(settings.DOCUMENT_NUMBER_PREFIX)
    assert invoice["fees_amount_cents"] == 250000


@pytest.mark.django_db
def test_a_fresh_install_lists_exactly_the_default_entity_from_the_settings():
    http = Http(_create_api_key())
    body = http("get", "billing_entities").json()
    assert len(body["billing_entities"]) == 1
    entity = body["billing_entities"][0]
    assert entity["is_default"] is True
    assert (entity["code"], entity["name"], entity["default_currency"], entity["timezone"], entity["document_number_prefix"]) == (
        settings.DEFAULT_BILLING_ENTITY_CODE, settings.ORGANIZATION_NAME, settings.DEFAULT_CURRENCY,
        settings.DEFAULT_TIMEZONE, settings.DOCUMENT_NUMBER_PREFIX)


@pytest.mark.django_db
def test_get_and_put_organizations_on_a_fresh_install():
    http = Http(_create_api_key())
    organization = http("get", "organizations").json()["organization"]
    assert organization["lago_id"] == settings.ORGANIZATION_ID and organization["name"] == settings.ORGANIZATION_NAME
    assert organization["document_numbering"] == "per_customer" and organization["email_settings"] == []

    response = http("put", "organizations", {"organization": {
        "name": "Renamed?", "default_currency": "EUR", "document_numbering": "per_organization",
        "billing_configuration": {"invoice_grace_period": 2}}})

    assert response.status_code == 200, response.content
    organization = response.json()["organization"]
    # The organization's identity is the instance's: Lago's update takes no name.
    assert organization["lago_id"] == settings.ORGANIZATION_ID and organization["name"] == settings.ORGANIZATION_NAME
    assert organization["default_currency"] == "EUR" and organization["document_numbering"] == "per_organization"
    assert organization["billing_configuration"]["invoice_grace_period"] == 2
    entity = BillingEntity.objects.get(is_default=True)
    assert (entity.name, entity.default_currency, entity.document_numbering, entity.invoice_grace_period) == (
        settings.ORGANIZATION_NAME, "EUR", "per_billing_entity", 2)
    assert http("get", "organizations").json()["organization"] == organization


@pytest.mark.django_db
def test_the_default_entity_is_ensured_once_and_only_one_can_be_default():
    first = ensure_default_billing_entity()
    assert ensure_default_billing_entity() == first
    assert BillingEntity.objects.filter(is_default=True).count() == 1
    with pytest.raises(IntegrityError), transaction.atomic():
        BillingEntity.objects.create(code="second", name="Second", is_default=True)


@pytest.mark.django_db
def test_an_entity_with_the_default_code_is_made_the_default_rather_than_duplicated():
    BillingEntity.objects.filter(is_default=True).update(is_default=False)
    entity = ensure_default_billing_entity()
    assert entity.code == settings.DEFAULT_BILLING_ENTITY_CODE and entity.is_default
    assert BillingEntity.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_flush_keeps_a_default_entity():
    """Transactional tests flush the database between tests; flush emits post_migrate."""
    BillingEntity.objects.all().delete()
    call_command("flush", interactive=False, verbosity=0)
    entity = BillingEntity.objects.get()
    assert entity.is_default and entity.code == settings.DEFAULT_BILLING_ENTITY_CODE


# --- the shell: manage.py on a brand-new SQLite file -----------------------------------------

def _manage(*args, db: Path, **env):
    environment = {k: v for k, v in os.environ.items()
                   if k not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE", "ORGANIZATION_ID", "ORGANIZATION_NAME",
                                "DEFAULT_BILLING_ENTITY_CODE", "DEFAULT_CURRENCY", "DEFAULT_TIMEZONE", "DOCUMENT_NUMBER_PREFIX"}}
    environment.update({"DATABASE_URL": f"sqlite:///{db}", "DEBUG": "true", "DJANGO_SETTINGS_MODULE": "billing_console.settings"},
                       **env)
    return subprocess.run([sys.executable, "manage.py", *args], cwd=BASE_DIR, env=environment,
                          capture_output=True, text=True, timeout=300)


def test_manage_py_migrate_on_a_new_database_creates_the_default_entity(tmp_path):
    db = Path("/tmp") / f"bc-fresh-{uuid.uuid4().hex}.sqlite3"
    try:
        env = {"ORGANIZATION_NAME": "Hooli", "DEFAULT_CURRENCY": "eur", "DEFAULT_TIMEZONE": "Europe/Paris"}
        migrated = _manage("migrate", "--noinput", db=db, **env)
        assert migrated.returncode == 0, migrated.stderr
        key = _manage("create_api_key", "bootstrap", db=db, **env)
        assert key.returncode == 0 and len(key.stdout.strip()) >= 32, key.stderr
        again = _manage("migrate", "--noinput", db=db, **env)  # idempotent
        assert again.returncode == 0, again.stderr
        shown = _manage("shell", "-c", "from customers.models import BillingEntity as B; import json; "
                        "print(json.dumps(list(B.objects.values('code', 'name', 'is_default', 'default_currency', "
                        "'timezone', 'document_number_prefix'))))", db=db, **env)
        assert shown.returncode == 0, shown.stderr
        assert json.loads(shown.stdout.strip().splitlines()[-1]) == [{
            "code": "default", "name": "Hooli", "is_default": True, "default_currency": "EUR",
            "timezone": "Europe/Paris", "document_number_prefix": "HOO-0001"}]
    finally:
        db.unlink(missing_ok=True)


@pytest.mark.parametrize("env, message", [
    ({"DEFAULT_CURRENCY": "XXX"}, "DEFAULT_CURRENCY"),
    ({"DEFAULT_TIMEZONE": "Mars/Olympus"}, "DEFAULT_TIMEZONE"),
    ({"DEFAULT_BILLING_ENTITY_CODE": "two words"}, "DEFAULT_BILLING_ENTITY_CODE"),
    ({"ORGANIZATION_NAME": "A B Corp"}, "DOCUMENT_NUMBER_PREFIX"),
    ({"ORGANIZATION_ID": "not-a-uuid"}, "ORGANIZATION_ID"),
])
def test_bad_organization_settings_fail_loudly(tmp_path, env, message):
    result = _manage("check", db=tmp_path / "never.sqlite3", **env)
    assert result.returncode != 0 and "ImproperlyConfigured" in result.stderr and message in result.stderr

"""Verifying the audit log's hash chain from the console: a POST-only view behind `audit.verify_auditlogentry`
(the Auditors' group has it), the same `verify()` as `manage.py verify_audit_log`, each run recorded as an
AuditVerification and shown on the close dashboard."""
import pytest
from django.db import connection
from django.urls import reverse

from audit.models import AuditLogEntry, AuditVerification

from .admin_helpers import messages_of
from .test_audit_chain import raw, some_entries

pytestmark = pytest.mark.django_db
LIST_URL = reverse("admin:audit_auditlogentry_changelist")
VERIFY_URL = reverse("admin:audit_auditlogentry_verify")


def test_an_auditor_verifies_the_chain_from_the_audit_log_and_the_run_is_recorded(auditor_client):
    some_entries(3)
    listing = auditor_client.get(LIST_URL).content.decode()
    assert f'action="{VERIFY_URL}"' in listing and "Verify the hash chain" in listing

    response = auditor_client.post(VERIFY_URL, follow=True)

    assert response.redirect_chain == [(LIST_URL, 302)]
    head = AuditLogEntry.objects.order_by("-seq").first()
    run = AuditVerification.objects.get()
    assert (run.ok, run.entries_checked, run.problems, run.head_hash) == (True, 3, 0, head.hash)
    assert messages_of(response) == [f"The audit log is intact: 3 entries checked, head hash {head.hash}."]
    dashboard = auditor_client.get(reverse("admin:index")).content.decode()
    verified = dashboard[dashboard.index('id="audit-verification"'):].split("</tr>")[0]
    assert "intact, 3 entries" in verified


def test_a_broken_chain_is_reported_and_recorded(auditor_client):
    some_entries(3)
    middle = AuditLogEntry.objects.get(seq=2)
    raw("DELETE FROM audit_auditlogentry WHERE id = %s", [middle.pk.hex if connection.vendor == "sqlite" else middle.pk])

    response = auditor_client.post(VERIFY_URL, follow=True)

    run = AuditVerification.objects.get()
    assert (run.ok, run.entries_checked, run.first_broken_seq) == (False, 2, 3)
    [message] = messages_of(response)
    assert message.startswith("The audit log is BROKEN: 1 problem(s) in 2 entries, first broken seq 3:")
    assert "gap: seq 2 missing" in message
    dashboard = auditor_client.get(reverse("admin:index")).content.decode()
    assert "BROKEN</strong> from entry 3" in dashboard


def test_an_operator_without_the_permission_is_refused_and_nothing_is_recorded(operator_client, operator):
    some_entries(1)
    assert not operator.has_perm("audit.verify_auditlogentry")
    assert "Verify the hash chain" not in operator_client.get(LIST_URL).content.decode()

    response = operator_client.post(VERIFY_URL)

    assert response.status_code == 403 and "audit.verify_auditlogentry" in response.content.decode()
    assert not AuditVerification.objects.exists()


def test_verifying_is_post_only(auditor_client):
    assert auditor_client.get(VERIFY_URL).status_code == 405
    assert not AuditVerification.objects.exists()


def test_auditors_may_verify_and_read_the_recorded_verifications(auditor, auditor_client):
    assert auditor.has_perms(["audit.verify_auditlogentry", "audit.view_auditverification"])
    auditor_client.post(VERIFY_URL)
    listing = auditor_client.get(reverse("admin:audit_auditverification_changelist"))
    assert listing.status_code == 200 and listing.context["cl"].result_count == 1


def test_a_long_log_is_verified_by_the_worker_and_the_run_recorded(auditor_client, monkeypatch):
    """Above VERIFY_INLINE_MAX entries the button queues audit.tasks.verify_audit_log (django-q2 runs it inline in tests)."""
    from audit import admin as audit_admin

    monkeypatch.setattr(audit_admin, "VERIFY_INLINE_MAX", 2)
    some_entries(3)

    response = auditor_client.post(VERIFY_URL, follow=True)

    assert messages_of(response) == ["Verifying 3 entries in the background: the result appears on the dashboard and "
                                     "under Audit verifications when the worker is done."]
    run = AuditVerification.objects.get()
    assert (run.ok, run.entries_checked) == (True, 3)
    from django_q.models import Task
    assert Task.objects.filter(func="audit.tasks.verify_audit_log", success=True).count() == 1

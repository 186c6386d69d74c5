"""Sync runs: mirror Lago's billing entities, customers, plans, subscriptions and invoices (fees, taxes).

A full run pages through each list (per_page 500: billing entities, customers, plans, add-ons,
subscriptions, fees, invoices) in dependency order and writes each page in its
own transaction through the mirror path (upstream/mirror.py; a draft whose customer or subscription changed is
flagged in the page's transaction), so a failure keeps what was mirrored
and the next run converges. Invoices come from GET /invoices (list items carry the customer and the
applied taxes, not the fees) joined with GET /fees (each fee names its lago_invoice_id): two paged
lists instead of one GET per invoice. A targeted run (`sync_invoice`) mirrors one invoice from
GET /invoices/{id}, which carries its fees. Every run is a `SyncRun` row: counts per resource, errors.
"""
import logging

from django.db import transaction
from django.utils import timezone

from . import client, mirror
from .models import SyncRun

logger = logging.getLogger(__name__)
# Lago also has pending and canceled; this project (standalone) refuses them as a filter, so they are not mirrored.
SUBSCRIPTION_STATUSES = ["active", "terminated"]


def _dicts(models) -> list[dict]:
    return [model.dict() for model in models]


def run_full_sync(*, trigger: str = "command", progress=None) -> SyncRun:
    """One full sync run; `progress(resource, n)` is told as pages arrive (the command's tqdm bars)."""
    run = SyncRun.objects.create(kind=SyncRun.Kind.FULL, started_at=timezone.now(), trigger=trigger)
    counts, errors = {}, []

    def step(resource, fetch, write):
        counts[resource] = 0
        try:
            for page in fetch():
                with transaction.atomic():
                    written = write(page)
                counts[resource] += written if isinstance(written, int) else written["invoices"] + written["unchanged"]
                if isinstance(written, dict):
                    counts["invoices_changed"] = counts.get("invoices_changed", 0) + written["invoices"]
                    counts["fees_written"] = counts.get("fees_written", 0) + written["fees"]
                if progress:
                    progress(resource, len(page))
            return True
        except client.FAILURES as error:
            errors.append({"resource": resource, "message": client.describe(error)})
            logger.warning("Sync of %s failed: %s", resource, client.describe(error))
            return False

    lago = client.client()
    ok = step("billing_entities", lambda: [_dicts(lago.billing_entities.find_all(timeout=client.timeout())["billing_entities"])],
              mirror.write_billing_entities)
    if ok:
        ok = step("customers", lambda: (_dicts(p) for p in client.pages("customers")),
                  lambda page: mirror.write_customers(page, now=run.started_at, clear_flags=True))
    if ok:
        step("plans", lambda: (_dicts(p) for p in client.pages("plans")), mirror.write_plans)
        step("add_ons", lambda: (_dicts(p) for p in client.pages("add_ons")), mirror.write_add_ons)  # what one-off invoices bill
        step("subscriptions", lambda: (_dicts(p) for p in client.pages("subscriptions", {"status[]": SUBSCRIPTION_STATUSES})),
             lambda page: mirror.write_subscriptions(page, now=run.started_at))
        fees_by_invoice: dict = {}
        if step("fees", lambda: (_dicts(p) for p in client.pages("fees")), lambda page: _collect(fees_by_invoice, page)):
            step("invoices", lambda: (_dicts(p) for p in client.pages("invoices")),
                 lambda page: mirror.write_invoices([(inv, fees_by_invoice.get(inv["lago_id"], [])) for inv in page], now=run.started_at))
    run.counts, run.errors, run.finished_at = counts, errors, timezone.now()
    run.save(update_fields=["counts", "errors", "finished_at"])
    return run


def _collect(fees_by_invoice: dict, page: list[dict]) -> int:
    for fee in page:
        if fee.get("lago_invoice_id"):
            fees_by_invoice.setdefault(fee["lago_invoice_id"], []).append(fee)
    return len(page)


def mirror_answer(answer, *, flag_changes: bool = True) -> dict:
    """Mirror one invoice as Lago answered it (an InvoiceResponse with its fees), inside the caller's transaction."""
    data = answer.dict()
    return mirror.write_invoices([(data, data.get("fees") or [])], flag_changes=flag_changes)


def mirror_credit_note(answer) -> int:
    """Mirror one credit note as Lago answered it (a CreditNoteResponse), inside the caller's transaction."""
    return mirror.write_credit_notes([answer.dict()])


def sync_invoice(invoice_id, *, trigger: str = "webhook") -> SyncRun:
    """A targeted run: GET /invoices/{id} and mirror it (webhooks, refresh)."""
    run = SyncRun(kind=SyncRun.Kind.INVOICE, started_at=timezone.now(), trigger=trigger[:64])
    try:
        answer = client.find_invoice(invoice_id)
        with transaction.atomic():
            written = mirror_answer(answer)
        run.counts = {"invoices": 1, "invoices_changed": written["invoices"], "fees": written["fees"]}
    except client.FAILURES as error:
        run.errors = [{"resource": "invoices", "id": str(invoice_id), "message": client.describe(error)}]
    run.finished_at = timezone.now()
    run.save()
    return run


def last_run() -> SyncRun | None:
    return SyncRun.objects.filter(kind=SyncRun.Kind.FULL).order_by("-started_at").first()

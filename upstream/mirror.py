"""The mirror path: the only writer of mirrored rows (Lago's answers → local rows keyed by lago_id).

Upserts are INSERT … ON CONFLICT (pk) DO UPDATE, so a run is idempotent and two runs converge.
An invoice is rewritten only when its fingerprint (a digest of Lago's answer, fees included)
changed; a changed draft is flagged "changed upstream since last sync". So is a draft whose customer, or a
subscription of whose customer, a sync found with other mirrored values than the local row (`_flag_drafts`:
the mirror has no invoice-subscription link, so a subscription's change flags its customer's drafts); a full
run clears those flags where it finds the record unchanged. Mirrored invoices skip
`Invoice.save()`'s transition guards on purpose: Lago moved them, this console records it. On
PostgreSQL the trigger refuses the same changes for every UPDATE; inside `mirror_writes()` it lets
them through for rows that have an InvoiceMirror (upstream/migrations/0002), and for no other row.
"""
import hashlib
import json
import uuid
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from addons.models import AddOn
from credit_notes.models import CreditNote, CreditNoteItem
from customers.models import BillingEntity, Customer
from invoices.models import Fee, FeeTax, Invoice, InvoiceTax
from plans.models import Plan
from sequences.models import take_next
from subscriptions.models import Subscription

from .models import InvoiceMirror

MIRROR_SETTING = "upstream.mirror_write"
# Lago's invoice types this model has no choice for (its column holds 16 characters).
INVOICE_TYPES = {"add_on": "one_off", "advance_charges": "subscription", "progressive_billing": "subscription"}
FEE_KINDS = {"subscription": "subscription", "charge": "charge", "add_on": "add_on", "credit": "credit"}


@contextmanager
def mirror_writes():
    """Inside a transaction: let this transaction's UPDATEs of mirrored invoices past the trigger."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("mirror_writes() runs inside transaction.atomic().")
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config(%s, 'on', true)", [MIRROR_SETTING])
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config(%s, 'off', true)", [MIRROR_SETTING])


def _uuid(value) -> uuid.UUID | None:
    return uuid.UUID(str(value)) if value else None


def _dt(value) -> datetime | None:
    if not value:
        return None
    if isinstance(value, datetime):
        return value
    parsed = parse_datetime(str(value))
    if parsed is None and (day := parse_date(str(value))):
        parsed = datetime.combine(day, time.min)
    if parsed is not None and timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed, timezone.utc)
    return parsed


def _date(value) -> date | None:
    if not value:
        return None
    return value if isinstance(value, date) else parse_date(str(value)[:10])


def _upsert(model, rows: list, unique=("id",)) -> None:
    if not rows:
        return
    fields = [f.attname for f in model._meta.concrete_fields if not f.primary_key and f.attname not in ("created_at",) + tuple(unique)]
    model.objects.bulk_create(rows, update_conflicts=True, unique_fields=list(unique), update_fields=fields, batch_size=500)


# --- catalogue ----------------------------------------------------------------------------------


def write_billing_entities(entities: list[dict]) -> int:
    """Keyed by code (Lago's API addresses billing entities by code, and `migrate` made the local default)."""
    if any(e.get("is_default") for e in entities):
        default = next(e["code"] for e in entities if e.get("is_default"))
        BillingEntity.objects.filter(is_default=True).exclude(code=default).update(is_default=False)
    existing = dict(BillingEntity.objects.values_list("code", "id"))
    rows = []
    for e in entities:
        rows.append(BillingEntity(
            id=existing.get(e["code"]) or _uuid(e["lago_id"]), code=e["code"], name=e["name"], is_default=bool(e.get("is_default")),
            default_currency=e.get("default_currency") or "USD", timezone=e.get("timezone") or "UTC",
            email=e.get("email") or "", legal_name=e.get("legal_name") or "", country=e.get("country") or "",
            document_number_prefix=e.get("document_number_prefix") or e["code"][:10].upper(),
            document_numbering=e.get("document_numbering") or "per_customer",
            net_payment_term=e.get("net_payment_term") or 0, invoice_grace_period=e.get("invoice_grace_period") or 0,
            finalize_zero_amount_invoice=e.get("finalize_zero_amount_invoice") is not False,
            invoice_footer=e.get("invoice_footer") or "", document_locale=e.get("document_locale") or "en",
        ))
    _upsert(BillingEntity, rows, unique=("code",))
    return len(rows)


# What a customer's or subscription's change is judged by: the fields the mirror writes from Lago's answer.
CUSTOMER_FIELDS = ("external_id", "billing_entity_id", "name", "legal_name", "email", "country", "currency", "timezone",
                   "net_payment_term", "invoice_grace_period", "finalize_zero_amount_invoice")
SUBSCRIPTION_FIELDS = ("external_id", "customer_id", "plan_id", "name", "status", "billing_time", "started_at", "terminated_at")


def _changed_records(model, rows: list, fields: tuple) -> tuple[set, set]:
    """(pks whose mirrored fields differ from the stored row, pks stored and equal); new records are neither."""
    stored = {row["id"]: row for row in model.objects.filter(pk__in=[r.pk for r in rows]).values("id", *fields)}
    changed, unchanged = set(), set()
    for row in rows:
        old = stored.get(row.pk)
        if old is not None:
            (changed if any(old[f] != getattr(row, f) for f in fields) else unchanged).add(row.pk)
    return changed, unchanged


def _flag_drafts(field: str, changed_customers: set, unchanged_customers: set, now, *, clear: bool) -> None:
    """Flag the mirrored drafts of `changed_customers` (InvoiceMirror.<field> = now); with `clear`, unflag those of
    `unchanged_customers` flagged by an earlier run (a flag this run set on another page stays). Caller's transaction."""
    if changed_customers:
        InvoiceMirror.objects.filter(invoice__status=Invoice.Status.DRAFT, invoice__customer_id__in=changed_customers).update(**{field: now})
    if clear and (unchanged := unchanged_customers - changed_customers):
        InvoiceMirror.objects.filter(invoice__customer_id__in=unchanged, **{f"{field}__lt": now}).update(**{field: None})


def write_customers(customers: list[dict], *, now=None, clear_flags: bool = False) -> int:
    """Upsert customers by lago_id; drafts of a changed one are flagged (`clear_flags`: the full run's customer step)."""
    now = now or timezone.now()
    customers = list({c["lago_id"]: c for c in customers}.values())
    if not customers:
        return 0
    entities = dict(BillingEntity.objects.values_list("code", "id"))
    default_entity = BillingEntity.objects.filter(is_default=True).values_list("id", flat=True).first()
    ids = [_uuid(c["lago_id"]) for c in customers]
    sequence = dict(Customer.objects.filter(pk__in=ids).values_list("pk", "sequential_id"))
    missing = [pk for pk in ids if pk not in sequence]
    if missing:  # the same counter Customer.save() uses, so local and mirrored customers never collide
        sequence.update(zip(missing, take_next("customer", len(missing), initial=_highest_customer_number)))
    rows = []
    for c in customers:
        config = c.get("billing_configuration") or {}
        pk = _uuid(c["lago_id"])
        rows.append(Customer(
            id=pk, external_id=c["external_id"], sequential_id=sequence[pk],
            billing_entity_id=entities.get(c.get("billing_entity_code")) or default_entity,
            name=c.get("name") or "", legal_name=c.get("legal_name") or "", email=c.get("email") or "",
            country=c.get("country") or "", currency=c.get("currency") or "", timezone=c.get("timezone") or "",
            net_payment_term=c.get("net_payment_term"), invoice_grace_period=config.get("invoice_grace_period"),
            finalize_zero_amount_invoice=c.get("finalize_zero_amount_invoice") or "inherit",
        ))
    changed, unchanged = _changed_records(Customer, rows, CUSTOMER_FIELDS)
    _upsert(Customer, rows)
    _flag_drafts("customer_changed_at", changed, unchanged, now, clear=clear_flags)
    return len(rows)


def _highest_customer_number() -> int:
    return Customer.objects.aggregate(highest=Max("sequential_id"))["highest"] or 0


def write_plans(plans: list[dict]) -> int:
    rows = [Plan(id=_uuid(p["lago_id"]), code=p["code"], name=p["name"], interval=p.get("interval") or "monthly",
                 amount_cents=p.get("amount_cents") or 0, currency=p.get("amount_currency") or "USD",
                 pay_in_advance=bool(p.get("pay_in_advance")), invoice_display_name=p.get("invoice_display_name") or "",
                 description=p.get("description") or "") for p in plans]
    _upsert(Plan, rows)
    return len(rows)


def write_add_ons(add_ons: list[dict]) -> int:
    """Keyed by code (one-off invoices name add-ons by code; a local add-on of that code is the mirror's row)."""
    existing = dict(AddOn.objects.values_list("code", "id"))
    rows = [AddOn(id=existing.get(a["code"]) or _uuid(a["lago_id"]), code=a["code"], name=a["name"],
                  invoice_display_name=a.get("invoice_display_name") or "", description=a.get("description") or "",
                  amount_cents=a.get("amount_cents") or 0, amount_currency=a.get("amount_currency") or "USD", deleted_at=None)
            for a in add_ons]
    _upsert(AddOn, rows, unique=("code",))
    return len(rows)


def write_subscriptions(subscriptions: list[dict], *, now=None, clear_flags: bool = True) -> int:
    """Upsert subscriptions by lago_id; the drafts of a changed one's customer are flagged."""
    now = now or timezone.now()
    plans = dict(Plan.objects.values_list("code", "id"))
    rows = []
    for s in subscriptions:
        if s.get("plan_code") not in plans or not s.get("lago_customer_id"):
            continue
        rows.append(Subscription(
            id=_uuid(s["lago_id"]), external_id=s["external_id"], customer_id=_uuid(s["lago_customer_id"]),
            plan_id=plans[s["plan_code"]], name=s.get("name") or "", status=(s.get("status") or "active")[:16],
            billing_time=s.get("billing_time") or "calendar",
            started_at=_dt(s.get("started_at") or s.get("subscription_at") or s.get("created_at")) or timezone.now(),
            terminated_at=_dt(s.get("terminated_at")),
        ))
    changed, unchanged = _changed_records(Subscription, rows, SUBSCRIPTION_FIELDS)
    _upsert(Subscription, rows)
    customer_of = {row.pk: row.customer_id for row in rows}
    _flag_drafts("subscription_changed_at", {customer_of[pk] for pk in changed}, {customer_of[pk] for pk in unchanged}, now,
                 clear=clear_flags)
    return len(rows)


# --- invoices -----------------------------------------------------------------------------------


def fingerprint(invoice: dict, fees: list[dict]) -> str:
    body = {k: v for k, v in invoice.items() if k not in ("customer", "fees", "file_url", "web_url", "xml_url")}
    body["fees"] = sorted(fees, key=lambda fee: str(fee.get("lago_id")))
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


def write_invoices(pairs: list[tuple[dict, list[dict]]], *, now=None, flag_changes: bool = True) -> dict:
    """Mirror (invoice, its fees) pairs, inside the caller's transaction; {"invoices": written, "unchanged": n, "fees": n}.

    `flag_changes=False` (the console's own refresh through Lago): a changed draft keeps the flag it had."""
    now = now or timezone.now()
    with mirror_writes():
        write_customers([inv["customer"] for inv, _ in pairs if inv.get("customer")], now=now)  # flags, never clears
        ids = [_uuid(inv["lago_id"]) for inv, _ in pairs]
        mirrors = InvoiceMirror.objects.in_bulk(ids)
        finalized_at = dict(Invoice.objects.filter(pk__in=ids).values_list("pk", "finalized_at"))
        entities = dict(BillingEntity.objects.values_list("code", "id"))
        changed = []
        for inv, fees in pairs:
            digest = fingerprint(inv, fees)
            mirror = mirrors.get(_uuid(inv["lago_id"]))
            if mirror is None or mirror.fingerprint != digest:
                changed.append((inv, fees, digest, mirror))
        customers = Customer.objects.select_related("billing_entity").in_bulk([_uuid(inv["customer"]["lago_id"]) for inv, *_ in changed])
        invoices, mirror_rows, fee_rows, fee_taxes, invoice_taxes = [], [], [], [], []
        for inv, fees, digest, mirror in changed:
            pk = _uuid(inv["lago_id"])
            customer = customers[_uuid(inv["customer"]["lago_id"])]
            invoice = _invoice_row(inv, customer, entities, finalized_at.get(pk), now)
            invoices.append(invoice)
            # A draft whose content moved since the last sync is flagged for review; anything else is as synced.
            flagged = mirror is not None and invoice.status == Invoice.Status.DRAFT
            changed_at = (now if flagged else None) if flag_changes else (mirror.changed_upstream_at if mirror else None)
            mirror_rows.append(InvoiceMirror(invoice_id=pk, synced_at=now, fingerprint=digest, changed_upstream_at=changed_at))
            invoice_taxes += [InvoiceTax(invoice_id=pk, tax_code=t.get("tax_code") or "", tax_name=t.get("tax_name") or "",
                                         tax_rate=Decimal(str(t.get("tax_rate") or 0)), amount_cents=t.get("amount_cents") or 0,
                                         fees_amount_cents=t.get("fees_amount_cents") or 0)
                              for t in inv.get("applied_taxes") or []]
            for position, f in enumerate(fees):
                fee = _fee_row(f, pk, position)
                fee_rows.append(fee)
                fee_taxes += [FeeTax(fee_id=fee.pk, tax_code=t.get("tax_code") or "", tax_name=t.get("tax_name") or "",
                                     tax_rate=Decimal(str(t.get("tax_rate") or 0)), amount_cents=t.get("amount_cents") or 0)
                              for t in f.get("applied_taxes") or []]
        written = [i.pk for i in invoices]
        _upsert(Invoice, invoices)
        # Fees and their taxes are Lago's: fees upserted by lago_id (a mirrored credit note's items point at
        # them), the ones Lago no longer lists deleted, taxes replaced as a whole.
        Fee.objects.filter(invoice_id__in=written).exclude(pk__in=[fee.pk for fee in fee_rows]).delete()
        FeeTax.objects.filter(fee__invoice_id__in=written).delete()
        InvoiceTax.objects.filter(invoice_id__in=written).delete()
        _upsert(Fee, fee_rows)
        FeeTax.objects.bulk_create(fee_taxes, batch_size=1000)
        InvoiceTax.objects.bulk_create(invoice_taxes, batch_size=1000)
        _upsert(InvoiceMirror, mirror_rows, unique=("invoice_id",))
        unchanged = [pk for pk in ids if pk not in set(written)]
        InvoiceMirror.objects.filter(pk__in=unchanged).update(synced_at=now, changed_upstream_at=None)
    return {"invoices": len(written), "unchanged": len(unchanged), "fees": len(fee_rows)}


def _invoice_row(inv: dict, customer: Customer, entities: dict, finalized_at, now) -> Invoice:
    status = inv["status"]
    issuing = _date(inv.get("issuing_date"))
    grace_ends = None
    if status == Invoice.Status.DRAFT:
        # Lago does not say when a draft's grace period ends: its issuing day + the customer's grace period.
        start = datetime.combine(issuing or timezone.now().date(), time.min, tzinfo=customer.tzinfo)
        grace_ends = start + timedelta(days=customer.effective_grace_period)
    return Invoice(
        id=_uuid(inv["lago_id"]), customer=customer,
        billing_entity_id=entities.get(inv.get("billing_entity_code")) or customer.billing_entity_id,
        invoice_type=INVOICE_TYPES.get(inv["invoice_type"], inv["invoice_type"])[:16], status=status,
        payment_status=inv["payment_status"], payment_overdue=inv["payment_overdue"], currency=inv["currency"],
        number=inv["number"], sequential_id=inv.get("sequential_id"), issuing_date=issuing,
        payment_due_date=_date(inv.get("payment_due_date")), net_payment_term=inv.get("net_payment_term") or 0,
        grace_period_ends_at=grace_ends,
        **{field: inv.get(field) or 0 for field in Invoice.AMOUNT_FIELDS},
        total_paid_amount_cents=inv.get("total_paid_amount_cents") or 0,
        credit_notes_offset_amount_cents=inv.get("total_offsetted_credit_note_amount_cents") or 0,
        metadata=[{"key": m.get("key"), "value": m.get("value")} for m in (inv.get("metadata") or [])],
        finalized_at=None if status == Invoice.Status.DRAFT else (finalized_at or now),
        voided_at=_dt(inv.get("voided_at")),
    )


def _fee_row(f: dict, invoice_id, position: int) -> Fee:
    item = f.get("item") or {}
    units = Decimal(str(f.get("units") or 0))
    amount = f.get("amount_cents") or 0
    return Fee(
        id=_uuid(f.get("lago_id")) or uuid.uuid4(), invoice_id=invoice_id, kind=FEE_KINDS.get(item.get("type"), "charge"),
        invoice_display_name=item.get("invoice_display_name") or item.get("name") or "", description=f.get("description") or "",
        units=units, unit_amount_cents=round(amount / units) if units else amount, precise_unit_amount=Decimal(amount) / units if units else amount,
        amount_cents=amount, precise_amount_cents=amount, taxes_rate=Decimal(str(f.get("taxes_rate") or 0)),
        taxes_amount_cents=f.get("taxes_amount_cents") or 0, from_datetime=_dt(f.get("from_date")), to_datetime=_dt(f.get("to_date")),
        events_count=f.get("events_count") or 0, position=position,
    )


# --- credit notes -------------------------------------------------------------------------------


def write_credit_notes(notes: list[dict], *, now=None) -> int:
    """Mirror Lago's credit notes into CreditNote rows whose pk is Lago's lago_id, with their items.

    A credit note is a mirror when its invoice is (InvoiceMirror): no marker of its own. Its items point
    at the mirrored fees (same lago_id). Lago's answer has no issuing date or description through the
    client's model: the issuing date is its creation day in the customer's time zone, the description kept.
    """
    now = now or timezone.now()
    invoices = Invoice.objects.select_related("customer").in_bulk([_uuid(n["lago_invoice_id"]) for n in notes])
    existing = CreditNote.objects.in_bulk([_uuid(n["lago_id"]) for n in notes])
    rows, items = [], []
    for n in notes:
        pk, invoice = _uuid(n["lago_id"]), invoices[_uuid(n["lago_invoice_id"])]
        created = _dt(n.get("created_at")) or now
        old = existing.get(pk)
        rows.append(CreditNote(
            id=pk, invoice=invoice, customer_id=invoice.customer_id, sequential_id=n.get("sequential_id") or 1, number=n["number"],
            issuing_date=created.astimezone(invoice.customer.tzinfo).date(), reason=n.get("reason") or CreditNote.Reason.OTHER,
            description=n.get("description") or (old.description if old else ""), currency=n["currency"],
            status=CreditNote.Status.FINALIZED, credit_status=n.get("credit_status"), refund_status=n.get("refund_status"),
            sub_total_excluding_taxes_amount_cents=n["sub_total_excluding_taxes_amount_cents"],
            coupons_adjustment_amount_cents=n["coupons_adjustment_amount_cents"], taxes_amount_cents=n["taxes_amount_cents"],
            taxes_rate=Decimal(str(n.get("taxes_rate") or 0)), total_amount_cents=n["total_amount_cents"],
            credit_amount_cents=n["credit_amount_cents"], balance_amount_cents=n["balance_amount_cents"],
            refund_amount_cents=n["refund_amount_cents"], offset_amount_cents=n["offset_amount_cents"],
            metadata=n.get("metadata") or {}, voided_at=(old.voided_at if old else None) or (now if n.get("credit_status") == "voided" else None),
            pdf_file=old.pdf_file if old else "", pdf_generated_at=old.pdf_generated_at if old else None,
        ))
        items += [CreditNoteItem(id=_uuid(item.get("lago_id")) or uuid.uuid4(), credit_note_id=pk, fee_id=_uuid(item["fee"]["lago_id"]),
                                 amount_cents=item.get("amount_cents") or 0, precise_amount_cents=Decimal(item.get("amount_cents") or 0))
                  for item in n.get("items") or [] if (item.get("fee") or {}).get("lago_id")]
    _upsert(CreditNote, rows)
    CreditNoteItem.objects.filter(credit_note_id__in=[row.pk for row in rows]).delete()
    CreditNoteItem.objects.bulk_create(items)
    return len(rows)

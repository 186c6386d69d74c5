"""Demo data for the console (`python manage.py seed_demo`): one billing entity, 20 customers in
several currencies and time zones, and 60 invoices that are drafts (some empty), finalized, paid,
overdue or closed; then the catalogue and ledgers around them: billable metrics, plans with
charges, subscriptions with usage events and their billed drafts, add-ons (one taxed) and a one-off
invoice, coupons (one applied), a wallet with credits.

Invoices are created as drafts with fees and finalized through `finalize_invoices`, like real ones;
nothing here writes `status`, and the rest goes through the apps' own services (audited). The demo's
seller is the install's default billing entity (created by `migrate`), given Nimbus Cloud's details,
so there is still exactly one default. Running it again changes nothing: the demo customers mark the
invoices as seeded, the demo plan's code the catalogue (so a database seeded before the catalogue
existed gets it on the next run).
"""
import random
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone as dt_timezone
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from audit.actors import Actor
from core.money import major_to_cents, round_cents
from customers.bootstrap import ensure_default_billing_entity
from customers.models import Customer, Tax

from invoices.drafts import recompute_draft
from invoices.transitions.fee_edits import attach_taxes
from invoices.transitions.finalization import finalize_invoices
from invoices.grace_period import deadline
from invoices.models import Fee, Invoice
from invoices.transitions.overdue import flag as flag_overdue
from invoices.transitions.payments import record_payment

PERIOD_DAYS = 30

# The seller's details, set on the default billing entity.
DEMO_ENTITY = {
    "name": "Nimbus Cloud Ltd", "default_currency": "USD", "timezone": "Europe/Paris", "email": "billing@nimbus.example",
    "legal_name": "Nimbus Cloud Ltd", "country": "FR", "document_number_prefix": "NIM", "net_payment_term": 15,
    "invoice_grace_period": 3, "finalize_zero_amount_invoice": True,
}

TAXES = [
    ("vat-fr-20", "TVA France", "20"),
    ("vat-de-19", "MwSt Deutschland", "19"),
    ("ct-jp-10", "Japan consumption tax", "10"),
    ("sales-ny-8875", "New York sales tax", "8.875"),
    ("vat-gcc-5", "GCC VAT", "5"),
    ("vat-uk-20", "UK VAT", "20"),
    ("svc-us-6", "US services tax", "6"),
]

# external_id, name, currency, time zone, country, tax code, empty-invoice policy, grace-period override
CUSTOMERS = [
    ("acme-us", "Acme Corporation", "USD", "America/New_York", "US", "sales-ny-8875", "inherit", None),
    ("globex", "Globex Inc.", "USD", "America/Los_Angeles", "US", None, "inherit", None),
    ("initech", "Initech", "USD", "America/Chicago", "US", "sales-ny-8875", "finalize", None),
    ("umbrella", "Umbrella Health", "USD", "America/Denver", "US", None, "skip", None),
    ("hooli", "Hooli", "USD", "America/Los_Angeles", "US", "sales-ny-8875", "inherit", 5),
    ("soylent", "Soylent SAS", "EUR", "Europe/Paris", "FR", "vat-fr-20", "inherit", None),
    ("zalando-labs", "Spree Labs GmbH", "EUR", "Europe/Berlin", "DE", "vat-de-19", "inherit", None),
    ("lumiere", "Lumière Studio", "EUR", "Europe/Paris", "FR", "vat-fr-20", "skip", None),
    ("nordwind", "Nordwind AG", "EUR", "Europe/Berlin", "DE", "vat-de-19", "inherit", 7),
    ("tapas-tech", "Tapas Tech SL", "EUR", "Europe/Madrid", "ES", "vat-fr-20", "inherit", None),
    ("sakura", "Sakura Robotics KK", "JPY", "Asia/Tokyo", "JP", "ct-jp-10", "inherit", None),
    ("kyoto-games", "Kyoto Games", "JPY", "Asia/Tokyo", "JP", "ct-jp-10", "finalize", None),
    ("osaka-logistics", "Osaka Logistics", "JPY", "Asia/Tokyo", "JP", "ct-jp-10", "inherit", None),
    ("gulf-trading", "Gulf Trading Co.", "KWD", "Asia/Kuwait", "KW", "vat-gcc-5", "inherit", None),
    ("kuwait-data", "Kuwait Data Centre", "KWD", "Asia/Kuwait", "KW", "vat-gcc-5", "skip", None),
    ("thames", "Thames Analytics Ltd", "GBP", "Europe/London", "GB", "vat-uk-20", "inherit", None),
    ("highland", "Highland Cloud Ltd", "GBP", "Europe/London", "GB", "vat-uk-20", "inherit", None),
    ("maple", "Maple Leaf Software", "CAD", "America/Toronto", "CA", None, "inherit", None),
    ("kangaroo", "Kangaroo Payments", "AUD", "Australia/Sydney", "AU", None, "inherit", None),
    ("fjord", "Fjord Systems AS", "EUR", "Europe/Oslo", "NO", None, "inherit", None),
]

# Price list in major units: (plan fee, price of 1,000 API calls, price per seat).
PRICES = {
    "USD": ("49.00", "0.40", "12.00"), "EUR": ("45.00", "0.35", "11.00"), "GBP": ("39.00", "0.30", "9.50"),
    "CAD": ("65.00", "0.55", "16.00"), "AUD": ("72.00", "0.60", "18.00"), "JPY": ("6900", "55", "1700"),
    "KWD": ("15.000", "0.125", "3.750"),
}


@dataclass
class Plan:
    """What one invoice becomes: draft (empty or not), finalized, paid, overdue."""

    outcome: str  # draft | finalized | paid | overdue
    empty: bool = False


def plan_for(customer_index: int, periods_ago: int) -> Plan:
    """A fixed mix: the latest period is mostly drafts, older ones finalized, paid or overdue."""
    if periods_ago == 1:
        if customer_index < 14:
            return Plan("draft", empty=customer_index in (3, 7, 12))
        return Plan("finalized")
    if periods_ago == 2:
        return Plan({0: "paid", 1: "overdue", 2: "paid", 3: "finalized"}[customer_index % 4])
    # Three periods ago: nearly all paid; a few overdue; two empty invoices (one closed by the skip policy).
    if customer_index in (3, 11):
        return Plan("finalized", empty=True)
    return Plan("overdue" if customer_index % 6 == 5 else "paid")


def already_seeded() -> bool:
    return Customer.objects.filter(external_id=CUSTOMERS[0][0]).exists()


def seed_demo(*, now: datetime | None = None, stdout=None) -> bool:
    """Create the demo data unless it is there; True if anything was created."""
    now = now or timezone.now()
    created = False
    if not already_seeded():
        _seed_invoices(now, stdout)
        created = True
    if not catalogue_seeded():
        _seed_catalogue(now, stdout)
        created = True
    return created


def _seed_invoices(now: datetime, stdout) -> None:
    anchor = datetime.combine(now.astimezone(dt_timezone.utc).date(), time.min, tzinfo=dt_timezone.utc)
    rng = random.Random(20261101)
    actor = Actor.system("command")
    with transaction.atomic():
        taxes = {code: Tax.objects.get_or_create(code=code, defaults={"name": name, "rate": Decimal(rate)})[0] for code, name, rate in TAXES}
        entity = ensure_default_billing_entity()
        for field, value in DEMO_ENTITY.items():
            setattr(entity, field, value)
        entity.save()
        entity.taxes.set([taxes["vat-fr-20"]])
        customers = []
        for external_id, name, currency, tz, country, tax_code, policy, grace in CUSTOMERS:
            customer = Customer.objects.create(
                billing_entity=entity, external_id=external_id, name=name, currency=currency, timezone=tz, country=country,
                email=f"billing@{external_id}.example", finalize_zero_amount_invoice=policy, invoice_grace_period=grace,
            )
            if tax_code:
                customer.taxes.set([taxes[tax_code]])
            customers.append(customer)

        # Oldest periods first, so invoice numbers grow with time.
        for periods_ago in (3, 2, 1):
            finalize_at = min(anchor - timedelta(days=PERIOD_DAYS * (periods_ago - 1) - 2, hours=-9), now)
            to_finalize, paid, overdue = [], [], []
            for index, customer in enumerate(customers):
                plan = plan_for(index, periods_ago)
                # Billing periods run from midnight to midnight in the customer's time zone.
                local_anchor = datetime.combine(now.astimezone(customer.tzinfo).date(), time.min, tzinfo=customer.tzinfo)
                period_from = local_anchor - timedelta(days=PERIOD_DAYS * periods_ago)
                period_to = period_from + timedelta(days=PERIOD_DAYS) - timedelta(seconds=1)
                invoice = _draft(customer, period_from, period_to, rng, empty=plan.empty)
                if plan.outcome == "draft":
                    continue
                to_finalize.append(invoice.pk)
                (paid if plan.outcome == "paid" else overdue if plan.outcome == "overdue" else []).append(invoice.pk)
            finalize_invoices(to_finalize, actor, now=finalize_at)
            _record_payments(paid, overdue, today=now.date())
    if stdout:
        stdout.write(f"Seeded billing entity {entity.name} ({entity.code}): {len(customers)} customers, "
                     f"{Invoice.objects.filter(billing_entity=entity).count()} invoices.")


def _draft(customer: Customer, period_from, period_to, rng: random.Random, *, empty: bool) -> Invoice:
    """A subscription draft with a plan fee, API calls and seats (none if `empty`), totals computed."""
    invoice = Invoice.objects.create(
        customer=customer, billing_entity=customer.billing_entity, currency=customer.currency,
        period_from=period_from, period_to=period_to,
        # The billing run's rule: the period ends at local midnight, the draft waits `grace` days from then.
        grace_period_ends_at=deadline(
            customer, (period_to + timedelta(seconds=1)).astimezone(customer.tzinfo).date(), customer.effective_grace_period
        ),
    )
    if empty:
        return invoice
    plan_price, calls_price, seat_price = (major_to_cents(p, customer.currency) for p in PRICES[customer.currency])
    calls = Decimal(rng.randrange(5_000, 400_000)) / 1000  # thousands of calls, three decimals
    seats = Decimal(rng.randrange(1, 40))
    specs = [
        (Fee.Kind.SUBSCRIPTION, "Platform plan", Decimal(1), plan_price),
        (Fee.Kind.CHARGE, "API calls (per 1,000)", calls, calls_price),
        (Fee.Kind.CHARGE, "Seats", seats, seat_price),
    ]
    taxes = customer.applicable_taxes()
    for position, (kind, name, units, unit_price) in enumerate(specs[: rng.choice((1, 2, 3, 3))]):
        amount = units * unit_price
        fee = Fee.objects.create(
            invoice=invoice, kind=kind, invoice_display_name=name, units=units, unit_amount_cents=unit_price,
            precise_unit_amount=Decimal(unit_price), amount_cents=round_cents(amount),
            precise_amount_cents=amount, from_datetime=period_from, to_datetime=period_to, position=position,
        )
        attach_taxes(fee, taxes)
    recompute_draft(invoice)
    return invoice


def _record_payments(paid_ids, overdue_ids, *, today) -> None:
    """Payment facts arrive after finalization (a payment provider's webhook in real life)."""
    for invoice in Invoice.objects.filter(pk__in=paid_ids, status=Invoice.Status.FINALIZED):
        record_payment(invoice)
    for invoice in Invoice.objects.filter(pk__in=overdue_ids, status=Invoice.Status.FINALIZED, payment_due_date__lt=today):
        if invoice.total_amount_cents:
            flag_overdue(invoice)


# --- the catalogue and the ledgers: metrics, plans, subscriptions and usage, add-ons, coupons, wallet ---

PLAN_CODE = "demo-growth-usd"  # marks a seeded catalogue

METRICS = [
    # code, name, aggregation, field
    ("api_calls", "API calls", "count", ""),
    ("storage_gb", "Storage (GB)", "max", "gb"),
    ("seats", "Active seats", "unique_count", "user_id"),
]
# code, name, currency, monthly fee (major units), {metric: (charge model, properties)}
PLANS = [
    ("demo-growth-usd", "Growth (USD)", "USD", "49.00", {
        "api_calls": ("package", {"amount": "0.40", "package_size": 1000, "free_units": 0}),
        "storage_gb": ("graduated", {"graduated_ranges": [
            {"from_value": 0, "to_value": 10, "per_unit_amount": "0", "flat_amount": "0"},
            {"from_value": 10, "to_value": None, "per_unit_amount": "0.25", "flat_amount": "0"}]}),
        "seats": ("standard", {"amount": "12.00"}),
    }),
    ("demo-growth-eur", "Growth (EUR)", "EUR", "45.00", {
        "api_calls": ("package", {"amount": "0.35", "package_size": 1000, "free_units": 0}),
        "seats": ("volume", {"volume_ranges": [
            {"from_value": 0, "to_value": 10, "per_unit_amount": "11.00", "flat_amount": "0"},
            {"from_value": 10, "to_value": None, "per_unit_amount": "9.00", "flat_amount": "0"}]}),
    }),
]
# customer external id -> plan code
SUBSCRIPTIONS = {"acme-us": "demo-growth-usd", "globex": "demo-growth-usd", "soylent": "demo-growth-eur"}
# code, name, currency, price (major units), tax code or None (then the customer's taxes apply)
ADD_ONS = [
    ("setup_fee", "Setup fee", "USD", "500.00", None),
    ("customer_success", "Customer success (per hour)", "USD", "150.00", "svc-us-6"),
    ("training_day", "Training day", "EUR", "900.00", None),
]


def catalogue_seeded() -> bool:
    from plans.models import Plan as CatalogPlan

    return CatalogPlan.objects.filter(code=PLAN_CODE).exists()


def _seed_catalogue(now: datetime, stdout) -> None:
    # The demo is a door of its own (like the API): it may call the services of every app.
    from addons.models import AddOn
    from api import catalog
    from coupons.catalog import create_coupon
    from coupons.services import apply_coupon
    from billing_run.billing import bill_period
    from subscriptions.periods import periods
    from usage.services import record_events
    from wallets.top_ups import create_wallet

    from invoices.transitions.one_off import create_one_off_invoice

    actor = Actor.system("command")
    rng = random.Random(20261201)
    customers = {c.external_id: c for c in Customer.objects.filter(external_id__in=[row[0] for row in CUSTOMERS])}
    with transaction.atomic():
        taxes = {code: Tax.objects.get_or_create(code=code, defaults={"name": name, "rate": Decimal(rate)})[0] for code, name, rate in TAXES}
        metrics = {code: catalog.create_billable_metric({"code": code, "name": name, "aggregation": aggregation, "field_name": field}, actor)
                   for code, name, aggregation, field in METRICS}
        plans = {}
        for code, name, currency, fee, charges in PLANS:
            plans[code] = catalog.create_plan(
                {"code": code, "name": name, "currency": currency, "interval": "monthly", "amount_cents": major_to_cents(fee, currency)},
                [{"billable_metric": metrics[metric], "charge_model": model, "properties": properties}
                 for metric, (model, properties) in charges.items()],
                actor,
            )

        # Subscribed since the start of last month: last month is billed (a draft in its grace period,
        # or finalized by the worker once it ends), this month's usage keeps arriving.
        subscriptions = []
        for external_id, plan_code in SUBSCRIPTIONS.items():
            customer = customers[external_id]
            local_now = now.astimezone(customer.tzinfo)
            month_start = local_now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
            started = (month_start - timedelta(days=1)).replace(day=1)
            subscriptions.append(catalog.create_subscription(customer, plans[plan_code], {
                "external_id": f"sub-{external_id}", "name": f"{customer.name}: {plans[plan_code].name}",
                "started_at": started, "billing_time": "calendar",
            }, actor))
        for subscription in subscriptions:
            record_events(_usage(subscription, now, rng))

        coupons = [
            create_coupon({"code": "welcome-10", "name": "Welcome 10%", "coupon_type": "percentage", "percentage_rate": Decimal(10),
                           "frequency": "recurring", "frequency_duration": 3}, actor),
            create_coupon({"code": "launch-50-usd", "name": "Launch credit USD 50", "coupon_type": "fixed_amount",
                           "amount_cents": 5000, "amount_currency": "USD", "frequency": "once"}, actor),
        ]
        # Applied before the billing run, so globex's draft shows the coupon it will consume.
        apply_coupon(customers["globex"], coupons[0], actor, now=now)
        create_wallet(customers["soylent"], actor, name="Prepaid credits", granted_cents=major_to_cents("100.00", "EUR"), now=now)

        for subscription in subscriptions:
            for period in periods(subscription, until=now):
                bill_period(subscription, period, now=now, actor=actor)

        add_ons = {}
        for code, name, currency, price, tax_code in ADD_ONS:
            add_ons[code] = AddOn.objects.create(code=code, name=name, amount_currency=currency,
                                                 amount_cents=major_to_cents(price, currency), description=name)
            if tax_code:
                add_ons[code].taxes.set([taxes[tax_code]])
        create_one_off_invoice(customers["initech"], fees=[{"add_on": add_ons["setup_fee"]},
                                                           {"add_on": add_ons["customer_success"], "units": "4"}],
                               actor=actor, now=now)
    if stdout:
        stdout.write(f"Seeded the catalogue: {len(metrics)} billable metrics, {len(plans)} plans, {len(subscriptions)} subscriptions "
                     f"with usage, {len(add_ons)} add-ons, {len(coupons)} coupons, 1 wallet.")


def _usage(subscription, now: datetime, rng: random.Random) -> list[dict]:
    """API calls, storage readings and seat logins, from the subscription's start to now."""
    start, span = subscription.started_at, (now - subscription.started_at).total_seconds()
    events = []
    for n in range(60):
        stamp = start + timedelta(seconds=span * n / 60 + rng.randrange(0, 3600))
        stamp = min(stamp, now - timedelta(seconds=1))
        base = {"external_subscription_id": subscription.external_id, "timestamp": stamp.timestamp()}
        events.append({**base, "transaction_id": f"demo-{subscription.external_id}-calls-{n}", "code": "api_calls"})
        if n % 4 == 0:
            events.append({**base, "transaction_id": f"demo-{subscription.external_id}-gb-{n}", "code": "storage_gb",
                           "properties": {"gb": str(rng.randrange(4, 40))}})
        if n % 3 == 0:
            events.append({**base, "transaction_id": f"demo-{subscription.external_id}-seat-{n}", "code": "seats",
                           "properties": {"user_id": f"user-{rng.randrange(1, 15)}"}})
    return events

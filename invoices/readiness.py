"""Readiness checks: what an operator should know about a draft before finalizing it (seed 001's failure causes).

    readiness_problems(invoice) -> list[Problem]          one draft (one query)
    with_readiness(queryset) -> queryset                   each row annotated with one flag per check
    problems_of(annotated_invoice) -> list[Problem]        the Problems of a row of `with_readiness`
    Invoice.objects.filter(has_problems_q()) on `with_readiness(...)`: the drafts with any problem (dashboard, filter)

Each check is written once, as a database condition (`CHECKS`), so the draft page, the confirmation pages,
the list filter and the dashboard count agree by construction. They are warnings: finalization is not
changed by them (Lago would refuse some, e.g. missing tax data; the console finalizes locally and leaves the
decision to the operator, who now sees the problem before clicking).

The checks:
- `missing_tax_id`: the billing entity requires its customers' tax identification number
  (`BillingEntity.requires_customer_tax_id`) and the customer has none (`Customer.lacks_required_tax_id`).
- `subscription_not_active`: a subscription draft whose subscription is no longer active (terminated).
- `unknown_metric_events`: usage events of the subscription in the invoice's period whose code matches no
  billable metric charged by its plan (they are not billed).
- `currency_mismatch`: the invoice's currency is not the customer's, or not its subscription plan's.
- `closes_empty`: no fees, and the empty-invoice policy will close it without a number
  (`InvoiceQuerySet.closing_as_empty`, the finalization rule).

A higher layer adds its own with `register` from its AppConfig.ready (upstream mode: `upstream/readiness.py`).
"""
from dataclasses import dataclass

from django.db.models import BooleanField, Exists, ExpressionWrapper, F, OuterRef, Q

from plans.models import Charge
from subscriptions.models import Subscription
from usage.models import Event

from .models import Invoice


@dataclass(frozen=True)
class Problem:
    code: str
    message: str


def _missing_tax_id() -> Q:
    return Q(customer__billing_entity__requires_customer_tax_id=True, customer__tax_identification_number="")


def _subscription_not_active() -> Q:
    return Q(subscription__isnull=False) & ~Q(subscription__status=Subscription.Status.ACTIVE)


def _unknown_metric_events() -> Q:
    charged_codes = Charge.objects.filter(plan=OuterRef(OuterRef("subscription__plan"))).values("billable_metric__code")
    events = Event.objects.filter(
        external_subscription_id=OuterRef("subscription__external_id"),
        timestamp__gte=OuterRef("period_from"), timestamp__lte=OuterRef("period_to"),
    ).exclude(code__in=charged_codes)
    return Q(subscription__isnull=False) & Q(Exists(events))


def _currency_mismatch() -> Q:
    customer = ~Q(customer__currency="") & ~Q(customer__currency=F("currency"))
    plan = Q(subscription__isnull=False) & ~Q(subscription__plan__currency=F("currency"))
    return customer | plan


def _closes_empty() -> Q:
    return Q(pk__in=Invoice.objects.closing_as_empty().values("pk"))


# code -> (condition on invoices, message template for one invoice)
CHECKS = {
    "missing_tax_id": (_missing_tax_id, "The customer has no tax identification number, which its billing entity requires "
                                        "(Lago refuses to finalize such an invoice)."),
    "subscription_not_active": (_subscription_not_active, "The subscription is {subscription_status}, no longer active."),
    "unknown_metric_events": (_unknown_metric_events, "The subscription has usage events in this period for metric codes its "
                                                      "plan does not charge ({unknown_codes}): they are not billed."),
    "currency_mismatch": (_currency_mismatch, "Currency conflict: the invoice is in {currency}, {conflicts}."),
    "closes_empty": (_closes_empty, "It has no fees: the empty-invoice policy will close it without a number."),
}


# code -> function(annotated invoice) -> the message's fields, for checks registered from above.
_DETAILS = {}


def register(code: str, condition, message: str, details=None) -> None:
    """Add a check: `condition()` a Q on invoices, `message` a template filled by `details(invoice)`."""
    CHECKS[code] = (condition, message)
    if details is not None:
        _DETAILS[code] = details


def _flag(code: str) -> str:
    return f"readiness_{code}"


def with_readiness(queryset):
    """`queryset` (drafts) with one boolean annotation per check, `readiness_<code>`."""
    return queryset.annotate(**{
        _flag(code): ExpressionWrapper(condition(), output_field=BooleanField()) for code, (condition, _) in CHECKS.items()
    })


def has_problems_q() -> Q:
    """On a `with_readiness` queryset: the rows with at least one problem."""
    q = Q()
    for code in CHECKS:
        q |= Q(**{_flag(code): True})
    return q


def with_problems(queryset):
    """The drafts of `queryset` with at least one readiness problem."""
    return with_readiness(queryset.drafts()).filter(has_problems_q())


def problems_of(invoice) -> list[Problem]:
    """The Problems of a row loaded through `with_readiness` (related rows are read only for the messages)."""
    problems = []
    for code, (_, message) in CHECKS.items():
        if getattr(invoice, _flag(code), False):
            problems.append(Problem(code, message.format(**_details(invoice, code))))
    return problems


def readiness_problems(invoice) -> list[Problem]:
    """What is wrong with this draft before it is finalized; [] for a clean draft or an invoice that is not a draft."""
    if invoice.status != Invoice.Status.DRAFT:
        return []
    annotated = with_readiness(Invoice.objects.filter(pk=invoice.pk)).select_related(
        "customer__billing_entity", "subscription__plan").first()
    return problems_of(annotated) if annotated is not None else []


def _details(invoice, code: str) -> dict:
    if code in _DETAILS:
        return _DETAILS[code](invoice)
    if code == "subscription_not_active":
        return {"subscription_status": invoice.subscription.get_status_display().lower()}
    if code == "unknown_metric_events":
        subscription = invoice.subscription
        charged = Charge.objects.filter(plan_id=subscription.plan_id).values("billable_metric__code")
        codes = sorted(set(Event.objects.filter(
            external_subscription_id=subscription.external_id, timestamp__gte=invoice.period_from,
            timestamp__lte=invoice.period_to,
        ).exclude(code__in=charged).values_list("code", flat=True)[:20]))
        return {"unknown_codes": ", ".join(codes)}
    if code == "currency_mismatch":
        conflicts = []
        if invoice.customer.currency and invoice.customer.currency != invoice.currency:
            conflicts.append(f"the customer pays in {invoice.customer.currency}")
        if invoice.subscription_id and invoice.subscription.plan.currency != invoice.currency:
            conflicts.append(f"its subscription's plan is in {invoice.subscription.plan.currency}")
        return {"currency": invoice.currency, "conflicts": " and ".join(conflicts)}
    return {}

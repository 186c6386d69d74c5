"""/fees: list (Lago's filters), find, and the two writes Lago allows only on fees without an invoice.

Every fee here belongs to an invoice (pay-in-advance fees billed on their own do not exist), so
PUT (payment_status) and DELETE always answer Lago's 405 `invoiced_fee` once the fee is found:
a fee's payment status is its invoice's (PUT /invoices/{lago_id}).
"""
from datetime import datetime, time, timezone as dt_timezone

from django.core.exceptions import ValidationError
from django.utils.dateparse import parse_date, parse_datetime

from invoices.models import Fee, Invoice

from .. import errors
from ..http import endpoint, ok, paginate, root
from ..parsing import parse
from ..requests_billing import FeeUpdateFields
from ..serializers_billing import fee_queryset, serialize_api_fee

FEE_TYPES = ["charge", "add_on", "subscription", "credit", "commitment", "fixed_charge"]
PAYMENT_STATUSES = ["pending", "succeeded", "failed", "refunded"]


def _visible():
    return fee_queryset().filter(invoice__status__in=Invoice.VISIBLE_STATUSES)


def _find(lago_id) -> Fee:
    try:
        fee = _visible().filter(pk=lago_id).first()
    except ValidationError:  # not a uuid
        fee = None
    if fee is None:
        raise errors.not_found("fee")
    return fee


def _moment(request, name, *, end=False):
    value = request.GET.get(name)
    if not value:
        return None
    try:
        day = parse_date(value) if len(value) == 10 else None
        moment = None if day else parse_datetime(value)
    except ValueError:
        day = moment = None
    if day is not None:  # a date: its whole day (UTC)
        return datetime.combine(day, time.max if end else time.min, tzinfo=dt_timezone.utc)
    if moment is None:
        raise errors.validation_error({name: "invalid_date"})
    return moment if moment.tzinfo else moment.replace(tzinfo=dt_timezone.utc)


def list_fees(request):
    rows = _visible()
    if value := request.GET.get("external_customer_id"):
        rows = rows.filter(invoice__customer__external_id=value)
    if value := request.GET.get("external_subscription_id"):
        rows = rows.filter(subscription__external_id=value)
    if value := request.GET.get("currency"):
        rows = rows.filter(invoice__currency=value.upper())
    if value := request.GET.get("fee_type"):
        if value not in FEE_TYPES:
            raise errors.validation_error({"fee_type": "value_is_invalid"})
        rows = rows.filter(kind=value)
    if value := request.GET.get("billable_metric_code"):
        rows = rows.filter(charge__billable_metric__code=value)
    if value := request.GET.get("payment_status"):
        if value not in PAYMENT_STATUSES:
            raise errors.validation_error({"payment_status": "value_is_invalid"})
        rows = rows.filter(invoice__payment_status=value)
    if (moment := _moment(request, "created_at_from")) is not None:
        rows = rows.filter(created_at__gte=moment)
    if (moment := _moment(request, "created_at_to", end=True)) is not None:
        rows = rows.filter(created_at__lte=moment)
    # Fees made from one event (pay-in-advance) do not exist here: asking for one finds nothing.
    if request.GET.get("event_transaction_id"):
        rows = rows.none()
    page, meta = paginate(request, rows.order_by("-created_at", "pk"))
    return ok({"fees": [serialize_api_fee(fee) for fee in page], "meta": meta})


def show(request, lago_id):
    return ok({"fee": serialize_api_fee(_find(lago_id))})


def update(request, lago_id):
    _find(lago_id)
    _, data = root(request, "fee")
    parse(FeeUpdateFields, data)
    raise errors.not_allowed("invoiced_fee")


def destroy(request, lago_id):
    _find(lago_id)
    raise errors.not_allowed("invoiced_fee")


collection = endpoint({"GET": list_fees})
member = endpoint({"GET": show, "PUT": update, "DELETE": destroy})

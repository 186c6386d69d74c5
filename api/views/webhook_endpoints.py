"""/webhook_endpoints (CRUD by lago_id) and /webhooks/json_public_key, /webhooks/public_key."""
import base64

from django.core.exceptions import ValidationError

from webhooks import signing
from webhooks.models import WebhookEndpoint
from webhooks.url_policy import validate_webhook_url

from .. import errors, services
from ..http import endpoint, ok, paginate, root
from ..parsing import parse
from ..requests import WebhookEndpointFields
from ..serializers import serialize_webhook_endpoint

WEBHOOK_TYPES = [
    "invoice.created", "invoice.one_off_created", "invoice.drafted", "invoice.voided",
    "invoice.payment_status_updated", "invoice.payment_overdue", "customer.created", "customer.updated",
    "credit_note.created", "fee.created",
]


def _values(request) -> dict:
    _, data = root(request, "webhook_endpoint")
    values = parse(WebhookEndpointFields, data).given()
    if values.get("name") is None and "name" in values:
        values["name"] = ""
    if "event_types" in values:
        types = values["event_types"] or []
        if set(types) - set(WEBHOOK_TYPES):
            raise errors.validation_error({"event_types": "value_is_invalid"})
        values["event_types"] = types
    if "signature_algo" in values and values["signature_algo"] not in WebhookEndpoint.SignatureAlgo.values:
        raise errors.validation_error({"signature_algo": "invalid_value"})
    if "webhook_url" in values:
        try:  # http(s) only; no loopback, private, link-local… host unless WEBHOOK_ALLOW_PRIVATE_URLS
            validate_webhook_url(values["webhook_url"])
        except ValidationError:
            raise errors.validation_error({"webhook_url": "url_is_invalid"})
    return values


def _find(lago_id) -> WebhookEndpoint:
    try:
        found = WebhookEndpoint.objects.filter(pk=lago_id).first()
    except ValidationError:
        found = None
    if found is None:
        raise errors.not_found("webhook_endpoint")
    return found


def create(request):
    return ok({"webhook_endpoint": serialize_webhook_endpoint(services.save_webhook_endpoint(None, _values(request), request.actor))})


def list_endpoints(request):
    rows, meta = paginate(request, WebhookEndpoint.objects.order_by("created_at"))
    return ok({"webhook_endpoints": [serialize_webhook_endpoint(e) for e in rows], "meta": meta})


def show(request, lago_id):
    return ok({"webhook_endpoint": serialize_webhook_endpoint(_find(lago_id))})


def update(request, lago_id):
    found = _find(lago_id)
    return ok({"webhook_endpoint": serialize_webhook_endpoint(services.save_webhook_endpoint(found, _values(request), request.actor))})


def destroy(request, lago_id):
    found = _find(lago_id)
    data = serialize_webhook_endpoint(found)
    services.delete_webhook_endpoint(found, request.actor)
    return ok({"webhook_endpoint": data})


def json_public_key(request):
    return ok({"webhook": {"public_key": base64.b64encode(signing.public_key_pem()).decode()}})


def public_key(request):
    """Lago's plain variant: the base64 PEM as text."""
    from django.http import HttpResponse

    return HttpResponse(base64.b64encode(signing.public_key_pem()).decode(), content_type="text/plain")


collection = endpoint({"GET": list_endpoints, "POST": create})
member = endpoint({"GET": show, "PUT": update, "DELETE": destroy})
json_public_key_view = endpoint({"GET": json_public_key})
public_key_view = endpoint({"GET": public_key})

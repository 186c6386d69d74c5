"""The plumbing every /api/v1 view shares: routing by method, Bearer auth, JSON in and out.

`endpoint({"GET": handler, ...})` builds a CSRF-exempt view that authenticates the key,
dispatches on the method (one it does not serve is 404 resource_not_found, as an unknown
route is) and turns ApiError / ValidationError into Lago's error bodies, so no handler can
answer an HTML page or a 500 for bad input. In upstream mode a transition Lago refused raises
UpstreamFailed: 502 `{"error": "Failed to <action>: <Lago's message>"}`, as the runbook endpoint.

Malformed input is refused here, once, for every route (a 400 BadRequest, as Rails' params
parser answers): a body that is not JSON, nested deeper than MAX_JSON_DEPTH, or holding a NUL
or a lone surrogate in any string or key; a path parameter or a query string (keys and values)
holding a NUL, a lone surrogate or percent-encoded bytes that are not UTF-8. PostgreSQL text
cannot store NUL, UTF-8 cannot encode a surrogate, and deep nesting exhausts the recursion of
the JSON encoder and of the code that walks the value.
"""
import json
import logging
import math
import re
from urllib.parse import unquote_to_bytes

from django.core.exceptions import RequestDataTooBig, ValidationError
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt

from audit.actors import Actor
from invoices.transitions.delegation import UpstreamFailed

from . import errors
from .errors import ApiError
from .models import ApiKey

logger = logging.getLogger(__name__)


def endpoint(handlers: dict, *, public: bool = False):
    @csrf_exempt
    def view(request, **kwargs):
        try:
            # As Rails routes Lago: HEAD is served by GET, and a method a path does not serve has no
            # route at all, so it is the unknown route's 404 resource_not_found (never a 405).
            handler = handlers.get(request.method) or (handlers.get("GET") if request.method == "HEAD" else None)
            if handler is None:
                return errors.not_found("resource").response()
            if not public:
                authenticate(request)
            check_request(request, kwargs)
            return handler(request, **kwargs)
        except ApiError as exc:
            return exc.response()
        except UpstreamFailed as exc:  # upstream mode: Lago refused, timed out or failed (seed 001's 502 body)
            return JsonResponse({"error": exc.text}, status=502)
        except ValidationError as exc:
            return errors.from_django(exc).response()
        except Exception:
            # A bug, not bad input: still JSON, or lago-python-client loses the status.
            logger.exception("Unhandled error in %s %s", request.method, request.path)
            return JsonResponse({"status": 500, "error": "Internal Server Error"}, status=500)

    view.handlers = handlers
    return view


def authenticate(request) -> None:
    header = request.headers.get("Authorization", "")
    scheme, _, raw = header.partition(" ")
    key = ApiKey.objects.authenticate(raw.strip()) if scheme.lower() == "bearer" else None
    if key is None:
        raise errors.unauthorized()
    request.api_key = key
    request.actor = Actor.api_key(key.name)


def ok(data, status=200) -> JsonResponse:
    return JsonResponse(data, status=status, safe=False)


# --- malformed input -------------------------------------------------------------------------

MAX_JSON_DEPTH = 64


def check_request(request, kwargs: dict) -> None:
    """Refuse (400) malformed path parameters, query strings and bodies, whatever the route."""
    for name, value in kwargs.items():
        if isinstance(value, str):
            check_text(value, f"the path parameter {name}")
    check_query_string(request)
    parsed_body(request)


def check_text(value: str, where: str) -> None:
    if "\x00" in value:
        raise errors.bad_request(f"NUL characters are not accepted in {where}")
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise errors.bad_request(f"lone surrogates (invalid Unicode) are not accepted in {where}")


def check_query_string(request) -> None:
    """The raw query string must percent-decode to UTF-8 without NUL (Django would silently turn
    invalid bytes into U+FFFD), and its decoded keys and values are checked too."""
    raw = request.META.get("QUERY_STRING", "")
    if not raw:
        return
    try:
        raw_bytes = raw.encode("latin-1")  # WSGI (PEP 3333) hands the bytes over as latin-1
    except UnicodeEncodeError:
        raw_bytes = raw.encode("utf-8", "surrogatepass")
    try:
        unquote_to_bytes(raw_bytes.replace(b"+", b" ")).decode("utf-8")
    except UnicodeDecodeError:
        raise errors.bad_request("the query string is not valid UTF-8")
    for key, values in request.GET.lists():
        check_text(key, "the query string")
        for value in values:
            check_text(value, "the query string")


def check_json_value(data) -> None:
    """Depth, NUL and lone surrogates in every string and key; iterative, so no depth can blow the stack."""
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            items = value.items()
        elif isinstance(value, list):
            items = ((None, item) for item in value)
        elif isinstance(value, str):
            check_text(value, "the JSON body")
            continue
        else:
            continue
        if depth > MAX_JSON_DEPTH:
            raise errors.bad_request(f"the JSON body is nested more than {MAX_JSON_DEPTH} levels deep")
        for key, item in items:
            if key is not None:
                check_text(key, "the JSON body")
            if isinstance(item, str):
                check_text(item, "the JSON body")
            elif isinstance(item, (dict, list)):
                stack.append((item, depth + 1))


_NO_BODY = object()


def parsed_body(request):
    """The body parsed and checked once per request (any JSON value); None when empty. Malformed → 400."""
    cached = getattr(request, "api_json_body", _NO_BODY)
    if cached is not _NO_BODY:
        return cached
    try:
        raw = request.body
    except RequestDataTooBig:
        raise errors.bad_request("the request body is too large")
    if not raw:
        data = None
    else:
        try:
            data = json.loads(raw)
        except RecursionError:
            raise errors.bad_request(f"the JSON body is nested more than {MAX_JSON_DEPTH} levels deep")
        except (ValueError, UnicodeDecodeError) as exc:
            raise errors.bad_request(f"malformed JSON body ({exc})")
        check_json_value(data)
    request.api_json_body = data  # a public request attribute, as middleware sets request.user
    return data


# --- request bodies -------------------------------------------------------------------------

def json_body(request) -> dict:
    """The parsed JSON object body; {} when empty. Malformed → 400, never a 500."""
    data = parsed_body(request)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise errors.bad_request("the JSON body must be an object")
    return data


def root(request, *names: str) -> tuple[str, dict]:
    """The object under the first present root key (Lago's `params.require(:root)`)."""
    data = json_body(request)
    for name in names:
        if name in data:
            value = data[name]
            if not isinstance(value, dict) or not value:
                raise errors.bad_request(f"param is missing or the value is empty: {name}")
            return name, value
    raise errors.bad_request(f"param is missing or the value is empty: {names[0]}")


_INT = re.compile(r"^-?\d+$")


# --- query strings ----------------------------------------------------------------------------

def query_list(request, name: str) -> list[str]:
    """`name[]=a&name[]=b` (how lago-python-client encodes lists), `name=a` or `name=a,b`."""
    values = request.GET.getlist(f"{name}[]") + request.GET.getlist(name)
    return [part for value in values for part in value.split(",") if part]


def query_bool(request, name: str) -> bool | None:
    value = request.GET.get(name)
    if value is None or value == "":
        return None
    if value.lower() in ("true", "1"):
        return True
    if value.lower() in ("false", "0"):
        return False
    raise errors.validation_error({name: "value_is_invalid"})


def query_date(request, name: str):
    """An ISO date (YYYY-MM-DD) or None; anything else is 422 invalid_date."""
    from datetime import date

    value = request.GET.get(name)
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise errors.validation_error({name: "invalid_date"})


def query_int(request, name: str) -> int | None:
    value = request.GET.get(name)
    if value in (None, ""):
        return None
    if not value.lstrip("-").isdigit() or abs(int(value)) >= 2**63:
        raise errors.validation_error({name: "value_is_invalid"})
    return int(value)


def query_metadata(request) -> dict:
    """`metadata[key]=value` pairs."""
    found = {}
    for name, value in request.GET.items():
        match = re.fullmatch(r"metadata\[(.+)\]", name)
        if match:
            found[match.group(1)] = value
    return found


def paginate(request, queryset):
    """(page of rows, Lago's meta). Defaults: page 1, per_page 100."""
    page = _positive_int(request, "page", 1)
    per_page = min(_positive_int(request, "per_page", 100), 1000)
    total = queryset.count()
    total_pages = math.ceil(total / per_page)
    rows = list(queryset[(page - 1) * per_page: page * per_page]) if total else []
    meta = {
        "current_page": page if total else 0,
        "next_page": page + 1 if page < total_pages else None,
        "prev_page": page - 1 if page > 1 and total else None,
        "total_pages": total_pages,
        "total_count": total,
    }
    return rows, meta


def _positive_int(request, name, default):
    value = request.GET.get(name)
    if value in (None, ""):
        return default
    if not _INT.match(value) or not 1 <= int(value) <= 10**9:
        raise errors.bad_request(f"{name} must be an integer from 1 to 1000000000")
    return int(value)

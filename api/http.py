"""The plumbing every /api/v1 view shares: routing by method, Bearer auth, JSON in and out.

`endpoint({"GET": handler, ...})` builds a CSRF-exempt view that authenticates the key,
dispatches on the method and turns ApiError / ValidationError into Lago's error bodies,
so no handler can answer an HTML page or a 500 for bad input.
"""
import json
import logging
import math
import re

from django.core.exceptions import RequestDataTooBig, ValidationError
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt

from audit.actors import Actor

from . import errors
from .errors import ApiError
from .models import ApiKey

logger = logging.getLogger(__name__)


def endpoint(handlers: dict, *, public: bool = False):
    @csrf_exempt
    def view(request, **kwargs):
        try:
            handler = handlers.get(request.method)
            if handler is None:
                response = errors.not_allowed("method_not_allowed").response()
                response["Allow"] = ", ".join(handlers)
                return response
            if not public:
                authenticate(request)
            if any("\x00" in key or "\x00" in value for key, values in request.GET.lists() for value in values):
                raise errors.bad_request("NUL characters are not accepted in the query string")
            return handler(request, **kwargs)
        except ApiError as exc:
            return exc.response()
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


# --- request bodies -------------------------------------------------------------------------

def json_body(request) -> dict:
    """The parsed JSON object body; {} when empty. Malformed → 400, never a 500."""
    try:
        raw = request.body
    except RequestDataTooBig:
        raise errors.bad_request("the request body is too large")
    if not raw:
        return {}
    if b"\\u0000" in raw:  # PostgreSQL text cannot hold NUL: refuse it here rather than fail in the database
        raise errors.bad_request("NUL characters (\\u0000) are not accepted")
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise errors.bad_request(f"malformed JSON body ({exc})")
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

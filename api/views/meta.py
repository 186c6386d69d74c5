"""The OpenAPI document and the JSON 404 for unknown routes under /api/v1."""
from .. import errors
from ..http import endpoint, ok
from ..openapi import document


def openapi(request):
    return ok(document())


def unknown_route(request, rest=""):
    return errors.not_found("resource").response()


openapi_view = endpoint({"GET": openapi}, public=True)

"""Malformed input on EVERY /api/v1 route is a 400 JSON error, never a 500.

The routes and their methods are read from api/urls.py (each endpoint view carries its
`handlers`), so a route added later is covered without touching this file.
"""
import re

import pytest
from django.test import Client

from tests import factories
from django.urls import URLPattern

from api import urls as api_urls
from api.http import MAX_JSON_DEPTH

BODY_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def _routes():
    """(path template, parameter names, methods) of every endpoint route."""
    found = []
    for pattern in api_urls.urlpatterns:
        assert isinstance(pattern, URLPattern)
        handlers = getattr(pattern.callback, "handlers", None)
        if handlers is None:
            continue  # the catch-all JSON 404
        route = str(pattern.pattern)
        names = re.findall(r"<(?:\w+:)?(\w+)>", route)
        found.append((route, names, sorted(handlers)))
    return found


ROUTES = _routes()
CASES = [(route, names, method) for route, names, methods in ROUTES for method in methods]
BODY_CASES = [case for case in CASES if case[2] in BODY_METHODS]
PARAM_CASES = [(route, names, method, name) for route, names, method in CASES for name in names]


def _url(route, names, overrides=None):
    overrides = overrides or {}
    url = route
    for name in names:
        url = re.sub(rf"<(?:\w+:)?{name}>", overrides.get(name, "x"), url)
    return f"/api/v1/{url}"


def _ids(cases):
    return [" ".join(str(part) for part in case) for case in cases]


@pytest.fixture
def send(api_key):
    client = Client(raise_request_exception=False)
    headers = {"Authorization": f"Bearer {api_key[1]}"}

    def send(method, url, raw=""):
        return client.generic(method, url, data=raw, content_type="application/json", headers=headers)

    return send


def assert_bad_request(response):
    assert response.status_code == 400, (response.status_code, response.content[:300])
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["status"] == 400
    assert body["error"].startswith("BadRequest: "), body
    return body


def test_every_route_is_covered():
    routes = {route for route, _, _ in ROUTES}
    assert "customers/<str:external_id>" in routes and "invoices/<str:invoice_id>/finalize" in routes
    assert len(ROUTES) >= 30 and BODY_CASES and PARAM_CASES


DEEP = "{" + '"a":{' * (MAX_JSON_DEPTH + 5) + '"b":1' + "}" * (MAX_JSON_DEPTH + 6)
VERY_DEEP = "[" * 200_000 + "]" * 200_000  # json.loads itself raises RecursionError on this
MALFORMED_BODIES = {
    "deep-object": DEEP,
    "deep-list": "[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1),
    "very-deep": VERY_DEEP,
    "surrogate-value": '{"customer": {"external_id": "a\\ud800b", "name": "x"}, "x": "\\ud800"}',
    "surrogate-key": '{"customer": {"\\udfff": "x"}}',
    "surrogate-nested": '{"a": [{"b": ["ok", "\\ud800"]}]}',
    "surrogate-raw-bytes": '{"a": "\xed\xa0\x80"}'.encode("latin-1"),
    "nul-escaped": '{"customer": {"external_id": "a\\u0000b"}}',
    "nul-key": '{"a": {"b\\u0000": 1}}',
    "nul-raw": b'{"a": "\x00"}',
    "not-json": "{nope",
    "not-utf8": b'{"a": "\xff"}',
}


@pytest.mark.parametrize("kind", list(MALFORMED_BODIES))
@pytest.mark.parametrize("route,names,method", BODY_CASES, ids=_ids(BODY_CASES))
def test_malformed_body_is_400(send, route, names, method, kind):
    assert_bad_request(send(method, _url(route, names), MALFORMED_BODIES[kind]))


def test_depth_limit_is_exact(send):
    ok = "[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH
    assert send("POST", "/api/v1/customers", '{"customer": {"external_id": "deep", "metadata": ' + ok[:-2] + "}}").status_code != 500
    body = assert_bad_request(send("POST", "/api/v1/customers", "[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1)))
    assert "nested" in body["error"]


@pytest.mark.parametrize("value", ["%00", "a%00b", "%ED%A0%80"])
@pytest.mark.parametrize("route,names,method,param", PARAM_CASES, ids=_ids(PARAM_CASES))
def test_malformed_path_parameter(send, route, names, method, param, value):
    response = send(method, _url(route, names, {param: value}))
    if value == "%ED%A0%80":
        # Django re-percent-encodes bytes that are not UTF-8: the id is the text "%ED%A0%80", a mere miss.
        assert response.status_code in (400, 404), response.content[:300]
        assert response["Content-Type"].startswith("application/json")
    else:
        assert "NUL" in assert_bad_request(response)["error"]


QUERIES = {
    "nul-value": "external_customer_id=%00",
    "nul-key": "a%00b=1",
    "nul-list": "status[]=a%00",
    "surrogate-value": "external_customer_id=%ED%A0%80",
    "surrogate-key": "%ED%A0%80=1",
    "invalid-utf8": "search_term=%FF",
}


@pytest.mark.parametrize("kind", list(QUERIES))
@pytest.mark.parametrize("route,names,method", CASES, ids=_ids(CASES))
def test_malformed_query_string(send, route, names, method, kind):
    assert_bad_request(send(method, f"{_url(route, names)}?{QUERIES[kind]}"))


def test_well_formed_non_ascii_still_accepted(api):
    factories.billing_entity(code="acme", is_default=True)
    response = api.post("customers", {"customer": {"external_id": "ünï-😀", "name": "Zoë 😀"}})
    assert response.status_code == 200, response.content
    assert api.get("customers/ünï-😀").json()["customer"]["name"] == "Zoë 😀"
    assert api.get("customers", {"search_term": "Zoë"}).status_code == 200


def test_runbook_endpoint_refuses_nul_ids(operator_client):
    for invoice_id in ["%00", "a%00", "00000000-0000-0000-0000-00000000000%00"]:
        response = operator_client.post(f"/api/admin/invoice/{invoice_id}/finalize")
        assert response.status_code == 400, response.content
        assert "NUL" in response.json()["error"]
    response = operator_client.post("/api/admin/invoice/%ED%A0%80/finalize")
    assert response.status_code == 404 and response.json() == {"error": "Invoice not found"}

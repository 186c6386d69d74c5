"""Shared by the API test modules: an API key and a JSON client that sends it.

The fixtures are registered for every test module by `pytest_plugins` in tests/conftest.py.
"""
import json

import pytest
from django.test import Client

from api.models import ApiKey


class ApiClient:
    def __init__(self, raw_key: str | None):
        self.client = Client()
        self.headers = {"Authorization": f"Bearer {raw_key}"} if raw_key else {}

    def _call(self, method, path, body=None, raw=None, query=None):
        url = path if path.startswith("/") else f"/api/v1/{path}"
        data = raw if raw is not None else (json.dumps(body) if body is not None else "")
        return getattr(self.client, method)(url, data=data if method != "get" else query or {},
                                            content_type="application/json", headers=self.headers)

    def get(self, path, query=None):
        return self._call("get", path, query=query)

    def post(self, path, body=None, raw=None):
        return self._call("post", path, body, raw)

    def put(self, path, body=None, raw=None):
        return self._call("put", path, body, raw)

    def delete(self, path):
        return self._call("delete", path)


@pytest.fixture
def api_key(db):
    return ApiKey.issue("integration")


@pytest.fixture
def api(api_key):
    return ApiClient(api_key[1])


def assert_error(response, status, code=None, error_details=None):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["status"] == status
    if code is not None:
        assert body["code"] == code, body
    if error_details is not None:
        assert body["error_details"] == error_details, body
    return body

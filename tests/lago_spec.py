"""Lago's own published OpenAPI document, as a judge of our answers (issue 10).

The file is Lago's (AGPL) and is never copied into the project: its path comes from the
environment variable LAGO_OPENAPI (`.ci/run` and `bin/test` point it at
`../shared/reference/lago-openapi.yaml`). Tests marked `lago_spec` need it; without the
variable they are deselected (tests/conftest.py), never skipped.

    assert_conforms("GET", "/invoices/{lago_id}", response)

finds the operation by Lago's path template, takes the schema of the response's status
(or the operation's `default`), and validates the JSON body with jsonschema (draft 2020-12,
as OpenAPI 3.1), resolving `#/components/...` references inside Lago's document. OpenAPI 3.0's
`nullable: true`, which the document still uses in a few places, is read as "or null".
"""
import functools
import json
import os
import re
from pathlib import Path

import jsonschema
import yaml
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SPEC_URI = "urn:lago-openapi"


def spec_path() -> Path | None:
    value = os.environ.get("LAGO_OPENAPI")
    return Path(value) if value else None


@functools.cache
def spec() -> dict:
    path = spec_path()
    if path is None:
        raise RuntimeError("LAGO_OPENAPI is not set: the lago_spec tests should have been deselected")
    with open(path, encoding="utf-8") as handle:
        return _nullable_to_type(yaml.safe_load(handle))


def _nullable_to_type(node):
    """OpenAPI 3.0 `nullable: true` → JSON Schema's "or null" (3.1 has no `nullable`)."""
    if isinstance(node, list):
        return [_nullable_to_type(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _nullable_to_type(value) for key, value in node.items()}
    if node.pop("nullable", False):
        if isinstance(node.get("type"), str):
            node["type"] = [node["type"], "null"]
        elif "enum" in node:
            node["enum"] = [*node["enum"], None]
        else:
            node = {"anyOf": [node, {"type": "null"}]}
    return node


@functools.cache
def _registry() -> Registry:
    return Registry().with_resource(SPEC_URI, Resource(contents=spec(), specification=DRAFT202012))


def _resolve(node: dict) -> dict:
    while isinstance(node, dict) and "$ref" in node:
        pointer = node["$ref"].removeprefix("#/").split("/")
        node = spec()
        for part in pointer:
            node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def operation(method: str, template: str) -> dict:
    paths = spec()["paths"]
    if template not in paths:
        raise AssertionError(f"Lago's OpenAPI has no path {template}")
    item = paths[template]
    if method.lower() not in item:
        raise AssertionError(f"Lago's OpenAPI has no {method.upper()} {template}")
    return item[method.lower()]


def response_schema(method: str, template: str, status: int) -> dict | None:
    """The JSON schema of the answer with `status`, as a `$ref`-able node (None: the spec gives no body)."""
    responses = operation(method, template)["responses"]
    answer = responses.get(str(status)) or responses.get(f"{str(status)[0]}XX") or responses.get("default")
    if answer is None:
        raise AssertionError(f"Lago's OpenAPI documents no {status} answer for {method.upper()} {template} "
                             f"(it documents {sorted(responses)})")
    answer = _resolve(answer)
    content = (answer.get("content") or {}).get("application/json")
    return None if content is None else content.get("schema")


def assert_conforms(method: str, template: str, response, *, status: int | None = None) -> dict:
    """Validate a Django test-client or requests response (or a (status, body) pair) against Lago's spec."""
    if isinstance(response, tuple):
        code, body = response
    else:
        code = response.status_code
        raw = response.content
        body = json.loads(raw) if raw else None
    if status is not None:
        assert code == status, f"{method} {template}: status {code}, expected {status}: {body}"
    schema = response_schema(method, template, code)
    if schema is None:
        return body
    validator = jsonschema.Draft202012Validator(
        {"$ref": _absolute(schema)} if "$ref" in schema else _absolutize(schema), registry=_registry(),
    )
    errors = sorted(validator.iter_errors(body), key=lambda e: list(e.absolute_path))
    if errors:
        lines = [f"{method.upper()} {template} → {code} does not conform to Lago's OpenAPI ({len(errors)} errors):"]
        for error in errors[:25]:
            where = "/".join(str(p) for p in error.absolute_path) or "(root)"
            lines.append(f"  at {where}: {error.message[:300]}")
        raise AssertionError("\n".join(lines))
    return body


def _absolute(schema: dict) -> str:
    return SPEC_URI + schema["$ref"]


def _absolutize(node):
    """Point the inline schema's `#/…` references into Lago's document."""
    if isinstance(node, list):
        return [_absolutize(item) for item in node]
    if not isinstance(node, dict):
        return node
    return {key: (SPEC_URI + value if key == "$ref" and isinstance(value, str) and value.startswith("#") else _absolutize(value))
            for key, value in node.items()}


def templates() -> list[tuple[str, str]]:
    """Every (METHOD, path template) of Lago's document."""
    return [(method.upper(), template) for template, item in spec()["paths"].items()
            for method in item if method in ("get", "post", "put", "patch", "delete")]


def template_for(path: str, method: str) -> str | None:
    """Lago's template matching a concrete path (`/invoices/abc/finalize` → `/invoices/{lago_id}/finalize`)."""
    candidates = []
    for verb, template in templates():
        if verb != method.upper():
            continue
        pattern = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$"
        if re.match(pattern, path):
            candidates.append(template)
    # The most literal template wins (/events/batch over /events/{transaction_id}).
    candidates.sort(key=lambda t: t.count("{"))
    return candidates[0] if candidates else None

"""Request bodies are parsed by the declared models: Lago's casts, one 422 with every problem, and
the OpenAPI document publishes each model's schema."""
from decimal import Decimal

import pytest
from pydantic.json_schema import models_json_schema

from api.errors import ApiError
from api.parsing import parse
from api.requests import BODIES, MODELS, AddOnFields, BillableMetricFilter, BillingEntityFields, OneOffInvoiceFields, PlanFields
from core.money import MinorUnitsError, parse_minor_units


def details(model, data):
    with pytest.raises(ApiError) as exc:
        parse(model, data)
    assert exc.value.status == 422
    return exc.value.body()["error_details"]


@pytest.mark.parametrize("value, expected", [(3, 3), (3.0, 3), ("3", 3), (" 3 ", 3), (0, 0)])
def test_integers_cast_as_rails_does(value, expected):
    assert parse(AddOnFields, {"amount_cents": value}).given() == {"amount_cents": expected}


@pytest.mark.parametrize("value", [True, False, 1.5, "1.5", "3.0", "x", None, [], {}, 2**63, -1, "-1"])
def test_minor_units_refuse_bools_fractions_negatives_and_null(value):
    assert details(AddOnFields, {"amount_cents": value}) == {"amount_cents": ["value_is_invalid"]}


def test_strings_must_be_strings_and_null_only_where_nullable():
    assert details(AddOnFields, {"name": 5, "code": None}) == {"name": ["value_is_invalid"], "code": ["value_is_invalid"]}
    assert parse(AddOnFields, {"description": None}).given() == {"description": None}


def test_unknown_keys_are_ignored_and_absent_keys_are_not_given():
    assert parse(AddOnFields, {"nope": 1, "name": "X"}).given() == {"name": "X"}


def test_nested_paths_are_dotted_and_every_error_is_answered_at_once():
    assert details(BillingEntityFields, {"name": 1, "billing_configuration": {"invoice_grace_period": True}}) == {
        "name": ["value_is_invalid"], "billing_configuration.invoice_grace_period": ["value_is_invalid"]}
    assert details(OneOffInvoiceFields, {"fees": [{"units": "many", "from_datetime": "yesterday"}, 3]}) == {
        "fees.0.units": ["value_is_invalid"], "fees.0.from_datetime": ["invalid_format"], "fees.1": ["value_is_invalid"]}
    assert details(PlanFields, {"charges": [{"filters": [{"values": "eu"}]}]}) == {"charges.0.filters.0.values": ["value_is_invalid"]}


def test_decimals_never_go_through_binary_floats():
    fee = parse(OneOffInvoiceFields, {"fees": [{"units": 0.1}, {"units": "2.50"}]}).given()["fees"]
    assert [f["units"] for f in fee] == [Decimal("0.1"), Decimal("2.50")]


@pytest.mark.parametrize("value, expected", [(0, 0), (12, 12), ("12", 12), ("12.0", 12), (Decimal("3"), 3), (2.0, 2)])
def test_parse_minor_units(value, expected):
    assert parse_minor_units(value) == expected


@pytest.mark.parametrize("value, reason", [(True, "not_a_number"), ("x", "not_a_number"), ("inf", "not_a_number"),
                                           (-1, "negative"), ("-0.5", "negative"), ("1.5", "fractional")])
def test_parse_minor_units_refusals(value, reason):
    with pytest.raises(MinorUnitsError) as exc:
        parse_minor_units(value)
    assert exc.value.reason == reason


def test_every_request_model_is_in_the_served_document(client):
    """Published under Lago's schema name where Lago has one (api.openapi.RENAMES)."""
    from api.openapi import RENAMES, _renamed

    schemas = client.get("/api/v1/openapi.json").json()["components"]["schemas"]
    for model in MODELS:
        _, generated = models_json_schema([(model, "validation"), (BillableMetricFilter, "validation")],
                                          ref_template="#/components/schemas/{model}")
        name = RENAMES.get(model.__name__, model.__name__)
        assert schemas[name] == _renamed(generated["$defs"][model.__name__]), model.__name__
    for name, (key, model) in BODIES.items():
        assert RENAMES.get(name, name) in schemas
        if key and name != "BillingEntityUpdate":
            assert schemas[RENAMES.get(name, name)]["properties"][key] == {
                "$ref": f"#/components/schemas/{RENAMES.get(model.__name__, model.__name__)}"}


def test_a_field_added_to_a_model_is_documented(client):
    from api.openapi import RENAMES

    schemas = client.get("/api/v1/openapi.json").json()["components"]["schemas"]
    for model in MODELS:
        name = RENAMES.get(model.__name__, model.__name__)
        assert set(schemas[name]["properties"]) == set(model.model_fields), model.__name__

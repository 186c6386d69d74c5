"""Charge models: how many minor units a number of units costs.

Properties follow Lago's shapes, prices in the currency's major units as strings:
- standard:  {"amount": "0.05"}                                   units x amount
- graduated: {"graduated_ranges": [{"from_value": 0, "to_value": 10, "per_unit_amount": "1", "flat_amount": "0"}, ...]}
             each tier prices the units that fall in it; its flat amount is added once units reach it
- volume:    {"volume_ranges": [same shape]}                      all units at the price of the tier the total falls in
- package:   {"amount": "5", "package_size": 100, "free_units": 0} every started package of paid units costs `amount`
A tier covers (previous tier's to_value, to_value]; the last tier has to_value null. The result is
computed in Decimal and rounded once, half away from zero.
"""
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError

from core.money import currency_exponent, round_cents, to_decimal

ZERO = Decimal(0)


@dataclass(frozen=True)
class Price:
    amount_cents: int
    precise_amount_cents: Decimal


def price(charge_model: str, properties: dict, units, currency: str) -> Price:
    """The price of `units` (Decimal) under a charge model, in minor units of `currency`."""
    units = to_decimal(units)
    if units < 0:
        raise ValidationError("Units must not be negative.", code="value_is_out_of_range")
    scale = Decimal(10) ** currency_exponent(currency)
    precise = _MODELS[charge_model](properties or {}, units) * scale
    return Price(round_cents(precise), precise)


def price_cents(charge_model: str, properties: dict, units, currency: str) -> int:
    return price(charge_model, properties, units, currency).amount_cents


def _standard(props, units):
    return units * to_decimal(props.get("amount", "0"))


def _tiers(ranges):
    """(lower, upper or None, per_unit, flat) per tier, lower = previous tier's upper bound."""
    lower = ZERO
    for tier in ranges:
        upper = None if tier.get("to_value") in (None, "") else to_decimal(tier["to_value"])
        yield lower, upper, to_decimal(tier.get("per_unit_amount", "0")), to_decimal(tier.get("flat_amount", "0"))
        if upper is None:
            return
        lower = upper


def _graduated(props, units):
    total = ZERO
    for lower, upper, per_unit, flat in _tiers(props.get("graduated_ranges", [])):
        if units <= lower:
            break
        in_tier = (units if upper is None else min(units, upper)) - lower
        total += flat + in_tier * per_unit
    return total


def _volume(props, units):
    if units == 0:
        return ZERO
    for lower, upper, per_unit, flat in _tiers(props.get("volume_ranges", [])):
        if upper is None or units <= upper:
            return flat + units * per_unit
    return ZERO


def _package(props, units):
    size = to_decimal(props.get("package_size", 1))
    paid = units - to_decimal(props.get("free_units", 0))
    if paid <= 0:
        return ZERO
    packages = (paid / size).to_integral_value(rounding="ROUND_CEILING")
    return packages * to_decimal(props.get("amount", "0"))


_MODELS = {"standard": _standard, "graduated": _graduated, "volume": _volume, "package": _package}


def validate_properties(charge_model: str, properties, *, field="properties") -> None:
    """ValidationError (code invalid_charge_properties) unless `properties` fit the charge model."""
    def fail(message):
        raise ValidationError({field: ValidationError(message, code="invalid_charge_properties")})

    if charge_model not in _MODELS:
        fail(f"Unknown charge model {charge_model!r}.")
    if not isinstance(properties, dict):
        fail("Properties are a JSON object.")
    try:
        if charge_model in ("standard", "package"):
            if to_decimal(properties.get("amount", "0")) < 0:
                fail("The amount must not be negative.")
        if charge_model == "package":
            if to_decimal(properties.get("package_size", 1)) <= 0 or to_decimal(properties.get("free_units", 0)) < 0:
                fail("package_size must be positive and free_units not negative.")
        if charge_model in ("graduated", "volume"):
            ranges = properties.get(f"{charge_model}_ranges")
            if not isinstance(ranges, list) or not ranges:
                fail(f"{charge_model}_ranges must list at least one tier.")
            tiers = list(_tiers(ranges))
            if len(tiers) != len(ranges) or tiers[-1][1] is not None:
                fail("Only the last tier may (and must) have to_value null.")
            for lower, upper, per_unit, flat in tiers:
                if per_unit < 0 or flat < 0 or (upper is not None and upper <= lower):
                    fail("Tiers must grow and prices must not be negative.")
    except ValidationError as error:
        if hasattr(error, "error_dict"):
            raise
        fail(f"Not a number: {error.messages[0]}")

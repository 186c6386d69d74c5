"""Lago's casting rules as reusable pydantic types (the request models in api/requests.py use them).

Each type is an `Annotated` with a BeforeValidator that does the cast itself, so that pydantic's
own (laxer or stricter) coercion never decides what is accepted: ints take 3, 3.0 and "3" but
not true or 1.5, as Rails casts; strings must be strings; null is refused unless the field is
declared `X | None`. A refusal is a PydanticCustomError whose type is the Lago error code,
which api/parsing.py turns into `error_details` unchanged.
"""
import re
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from pydantic import BeforeValidator, Field
from pydantic_core import PydanticCustomError

from core.money import MinorUnitsError, parse_minor_units

_INT = re.compile(r"^-?\d+$")


def lago_error(code: str, message: str, field: str | None = None) -> PydanticCustomError:
    """An error answered as `{path: [code]}`; `field` names a key below the validated object (model validators)."""
    return PydanticCustomError(code, message, {"field": field} if field else None)


def _invalid(what: str) -> PydanticCustomError:
    return lago_error("value_is_invalid", f"must be {what}")


def _as_str(value):
    if isinstance(value, str):
        return value
    raise _invalid("a string")


def _as_int(value):
    """An integer that fits a bigint column: JSON ints, 3.0, "3" (as Rails casts); not bools or 1.5."""
    if isinstance(value, bool):
        raise _invalid("an integer")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    elif isinstance(value, str) and _INT.match(value.strip()):
        value = int(value)
    if isinstance(value, int) and abs(value) < 2**63:
        return value
    raise _invalid("an integer")


def _as_minor_units(value):
    """Whole, non-negative minor units: Lago's integer cast, then the kernel's rule."""
    try:
        return parse_minor_units(_as_int(value))
    except MinorUnitsError:
        raise _invalid("a whole, non-negative number of minor units")


def _as_bool(value):
    if isinstance(value, bool):
        return value
    raise _invalid("true or false")


def _as_str_list(value):
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    raise _invalid("a list of strings")


def _as_dict(value):
    if isinstance(value, dict):
        return value
    raise _invalid("an object")


def _as_list(value):
    if isinstance(value, list):
        return value
    raise _invalid("a list")


def _as_str_map(value):
    if isinstance(value, dict) and all(isinstance(k, str) and (v is None or isinstance(v, str)) for k, v in value.items()):
        return value
    raise _invalid("an object of strings")


def _as_decimal(value):
    """A JSON number or a numeric string as a Decimal (never through a float's binary digits), finite."""
    try:
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise InvalidOperation
        number = Decimal(repr(value) if isinstance(value, float) else str(value).strip())
    except InvalidOperation:
        raise _invalid("a number")
    if not number.is_finite():
        raise _invalid("a finite number")
    return number


def _iso_datetime(*, not_a_string: str, bad_format: str, aware: bool = False, blank_is_none: bool = False):
    def parse(value):
        if not isinstance(value, str):
            raise lago_error(not_a_string, "must be an ISO 8601 date-time")
        if blank_is_none and not value:
            return None
        try:
            parsed = parse_datetime(value)
        except ValueError:
            parsed = None
        if parsed is None or (aware and timezone.is_naive(parsed)):
            raise lago_error(bad_format, "must be an ISO 8601 date-time" + (" with a UTC offset" if aware else ""))
        return parsed
    return BeforeValidator(parse)


LagoStr = Annotated[str, BeforeValidator(_as_str)]
LagoInt = Annotated[int, BeforeValidator(_as_int)]
MinorUnits = Annotated[int, BeforeValidator(_as_minor_units), Field(ge=0)]
"""Whole, non-negative minor units (amount_cents…); the rule itself is core.money.parse_minor_units."""
LagoBool = Annotated[bool, BeforeValidator(_as_bool)]
StrList = Annotated[list[str], BeforeValidator(_as_str_list)]
LagoDict = Annotated[dict[str, Any], BeforeValidator(_as_dict)]
LagoList = Annotated[list[Any], BeforeValidator(_as_list)]
StrMap = Annotated[dict[str, str | None], BeforeValidator(_as_str_map)]
LagoDecimal = Annotated[Decimal, BeforeValidator(_as_decimal)]
IsoDatetime = Annotated[datetime, _iso_datetime(not_a_string="value_is_invalid", bad_format="invalid_format")]
"""A date-time string (a non-string is value_is_invalid, a bad one invalid_format)."""
LooseIsoDatetime = Annotated[datetime, _iso_datetime(not_a_string="invalid_format", bad_format="invalid_format")]
"""As IsoDatetime, but anything that is not a good date-time string is invalid_format (coupons' expiration_at)."""
AwareIsoDatetime = Annotated[datetime | None, _iso_datetime(not_a_string="value_is_invalid", bad_format="invalid_date",
                                                            aware=True, blank_is_none=True)]
"""A date-time with its offset (subscription_at): "" is None, naive or bad is invalid_date."""


def list_of(item):
    """A list of `item` (a model): not a list is value_is_invalid at the field, a bad item at `field.N`."""
    return Annotated[list[item], BeforeValidator(_as_list)]

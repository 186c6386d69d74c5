"""Money as integer minor units, scaled by the currency's ISO 4217 exponent.

JPY has exponent 0, USD 2, KWD 3. Amounts are never floats: arithmetic that
can produce fractions (units x unit price, tax rates, pro-rata shares) is done
in Decimal and rounded half away from zero, as Lago (Ruby's BigDecimal#round) does.
"""
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from iso4217 import Currency


def currency_exponent(code: str) -> int:
    """The ISO 4217 minor-unit exponent of `code`; ValidationError if it is not a billable currency."""
    upper = str(code).upper()
    exponent = _EXPONENTS.get(upper)  # a few look-ups per fee of every body rendered
    if exponent is not None:
        return exponent
    try:
        exponent = Currency(upper).exponent
    except ValueError:
        raise ValidationError(f"{code!r} is not an ISO 4217 currency code.", code="invalid_currency")
    if exponent is None:  # gold, SDRs, test codes: no minor unit, nothing to invoice in
        raise ValidationError(f"{code} has no minor unit and cannot be invoiced.", code="invalid_currency")
    _EXPONENTS[upper] = exponent
    return exponent


_EXPONENTS: dict[str, int] = {}


def validate_currency(code: str) -> None:
    currency_exponent(code)


def round_cents(value) -> int:
    """Round a Decimal amount of minor units half away from zero (2.5 -> 3, -2.5 -> -3)."""
    return int(Decimal(value).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def to_decimal(value) -> Decimal:
    """Parse user input (str, int, Decimal) into a Decimal; never via float formatting surprises."""
    if isinstance(value, float):
        value = repr(value)
    try:
        result = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ValidationError(f"{value!r} is not a number.", code="invalid_number")
    if not result.is_finite():
        raise ValidationError(f"{value!r} is not a number.", code="invalid_number")
    return result


class MinorUnitsError(ValueError):
    """Why a value is not whole, non-negative minor units: `reason` is "not_a_number", "negative" or "fractional"."""

    def __init__(self, value, reason: str):
        super().__init__(f"{value!r} is not a whole, non-negative number of minor units ({reason}).")
        self.reason = reason


def parse_minor_units(value) -> int:
    """Whole, non-negative minor units (an int, a Decimal, a numeric string, an integral float); not bools.

    The one rule for every door (API types, one-off lines, fee edits, wallets); each maps
    `MinorUnitsError.reason` onto its own error code.
    """
    if isinstance(value, bool):
        raise MinorUnitsError(value, "not_a_number")
    if isinstance(value, int):
        number = value
    else:
        try:
            decimal = to_decimal(value)
        except ValidationError:
            raise MinorUnitsError(value, "not_a_number")
        if decimal < 0:
            raise MinorUnitsError(value, "negative")
        if decimal != decimal.to_integral_value():
            raise MinorUnitsError(value, "fractional")
        number = int(decimal)
    if number < 0:
        raise MinorUnitsError(value, "negative")
    return number


def major_to_cents(value, currency: str) -> int:
    """'12.34' USD -> 1234; '1200' JPY -> 1200. Refuses more decimals than the currency has."""
    exponent = currency_exponent(currency)
    amount = to_decimal(value)
    scaled = amount.scaleb(exponent)
    if scaled != scaled.to_integral_value():
        raise ValidationError(
            f"{value} has more decimals than {currency} allows ({exponent}).", code="too_many_decimals"
        )
    return int(scaled)


def format_amount(cents: int | None, currency: str) -> str:
    """1234, 'USD' -> '12.34 USD'; 1234, 'JPY' -> '1,234 JPY'. For display only."""
    if cents is None:
        return ""
    exponent = currency_exponent(currency)
    major = Decimal(int(cents)).scaleb(-exponent)
    return f"{major:,.{exponent}f} {currency}"

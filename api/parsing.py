"""Request bodies through their declared models (api/requests.py), and the one error mapper.

    values = parse(CustomerFields, data).given()

A pydantic ValidationError becomes Lago's 422 with every problem at once: the field's path
joined with dots as Lago names it (`billing_configuration.invoice_grace_period`, `fees.0.units`)
and the code carried by our types' errors (api/types.py); pydantic's own refusals (an object
where a list was expected…) are `value_is_invalid`, as the converters before them answered.
"""
from pydantic import ValidationError

from . import errors

# Codes our types raise; any other pydantic error type is a type error.
LAGO_CODES = {"value_is_invalid", "invalid_format", "invalid_date", "value_is_mandatory", "invalid_value"}


def parse(model, data: dict):
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise lago_error(exc) from None


def lago_error(exc: ValidationError) -> errors.ApiError:
    details: dict[str, list[str]] = {}
    for error in exc.errors(include_url=False, include_input=False):
        path = [str(part) for part in error["loc"]]
        field = (error.get("ctx") or {}).get("field")
        if field:
            path.append(field)
        code = error["type"] if error["type"] in LAGO_CODES else "value_is_invalid"
        codes = details.setdefault(".".join(path) or "base", [])
        if code not in codes:
            codes.append(code)
    return errors.validation_error(details)

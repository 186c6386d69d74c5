"""Field errors that keep their code (a dict of plain strings would drop it), for forms and the API alike."""
from django.core.exceptions import ValidationError


def field_error(field: str, message: str, code: str) -> ValidationError:
    """ValidationError({field: message}) whose message carries `code`, as `err.error_dict[field][0].code`."""
    return ValidationError({field: ValidationError(message, code=code)})

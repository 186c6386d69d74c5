"""Lago's error bodies, exactly (see shared/reference/lago-api-contract.md, "Upstream error bodies").

Views raise ApiError; the api_view wrapper turns it into the JSON answer. Every
error body is JSON, because lago-python-client loses the real status on any other.
"""
from django.http import JsonResponse

REASONS = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    422: "Unprocessable Entity",
}


class ApiError(Exception):
    def __init__(self, status: int, code: str | None = None, *, message: str = "", error_details: dict | None = None):
        super().__init__(message or code or REASONS.get(status, ""))
        self.status, self.code, self.message, self.error_details = status, code, message, error_details

    def body(self) -> dict:
        if self.status == 400:
            return {"status": 400, "error": f"BadRequest: {self.message}"}
        body = {"status": self.status, "error": REASONS[self.status]}
        if self.status == 422:
            body["code"] = "validation_errors"
            body["error_details"] = self.error_details or {}
        elif self.code:
            body["code"] = self.code
        return body

    def response(self) -> JsonResponse:
        return JsonResponse(self.body(), status=self.status)


def bad_request(message: str) -> ApiError:
    return ApiError(400, message=message)


def unauthorized() -> ApiError:
    return ApiError(401)


def forbidden(code: str) -> ApiError:
    return ApiError(403, code)


def not_found(resource: str) -> ApiError:
    return ApiError(404, f"{resource}_not_found")


def not_allowed(code: str) -> ApiError:
    return ApiError(405, code)


def validation_error(details: dict) -> ApiError:
    """details: {field: [code, …]} (a single code string is wrapped in a list), or for a batch
    {index: {field: [code, …]}} as Lago keys the errors of /events/batch."""
    return ApiError(422, error_details={str(k) if isinstance(k, int) else k: v if isinstance(v, (list, dict)) else [v]
                                        for k, v in details.items()})


# Django ValidationError codes → Lago's error codes.
DJANGO_CODES = {
    "unique": "value_already_exist",
    "invalid_choice": "invalid_value",
    "required": "value_is_mandatory",
    "blank": "value_is_mandatory",
    "null": "value_is_mandatory",
    "invalid_currency": "value_is_invalid",
    "invalid_timezone": "invalid_timezone",
    "invalid": "value_is_invalid",
    "max_length": "value_is_invalid",
    "min_value": "value_is_invalid",
    "max_value": "value_is_invalid",
    "invalid_number": "value_is_invalid",
    "max_digits": "value_is_invalid",
    "max_decimal_places": "value_is_invalid",
    "max_whole_digits": "value_is_invalid",
}


def from_django(exc) -> ApiError:
    """A 422 from a django ValidationError (model full_clean or a service)."""
    details: dict = {}
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            details[field] = [DJANGO_CODES.get(e.code, e.code or "value_is_invalid") for e in errors]
    else:
        details["base"] = [DJANGO_CODES.get(e.code, e.code or "value_is_invalid") for e in exc.error_list]
    return validation_error(details)

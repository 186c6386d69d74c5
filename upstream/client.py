"""Talking to Lago: lago-python-client 1.55.0, configured by upstream.config (environment, else the admin), and what it lacks.

Everything goes through the client's own models and transport. Two things are added here:
- `invoice_action` (finalize, refresh, void with its options) and `void_credit_note`: the client's methods for these send no
  timeout, so httpx's 5 s applies whatever LAGO_TIMEOUT_SECONDS says; this is the client's own code
  (its make_url, make_headers, to_json, send_*_request, response parsing) with the timeout passed.
  One-off invoices (`invoices.create`) and credit notes (`credit_notes.create`) are the client's own
  calls: they take a timeout.
- `describe`: an operator-readable message for any failure (the client's LagoApiError.detail is only
  the HTTP reason phrase; Lago's message and code are in `.response`).
"""
import httpx
from lago_python_client.client import Client
from lago_python_client.exceptions import LagoApiError
from lago_python_client.models.credit_note import CreditNoteResponse
from lago_python_client.models.invoice import InvoiceResponse
from lago_python_client.services.json import to_json
from lago_python_client.services.request import make_headers, make_url, send_post_request, send_put_request
from lago_python_client.services.response import get_response_data, prepare_object_response
from pydantic.v1 import ValidationError as ResponseShapeError

from . import config

# What a call to Lago may raise: an answer that is an error, no answer in time, no connection, a body the client refuses.
FAILURES = (LagoApiError, httpx.HTTPError, ResponseShapeError)


def client() -> Client:
    return Client(api_key=config.api_key(), api_url=config.api_url())


def timeout() -> httpx.Timeout:
    return httpx.Timeout(config.timeout_seconds())


def find_invoice(invoice_id) -> InvoiceResponse:
    return client().invoices.find(str(invoice_id), timeout=timeout())


def invoice_action(invoice_id, action: str, body: dict | None = None) -> InvoiceResponse:
    """PUT /invoices/{id}/finalize | refresh, POST /invoices/{id}/void [body: its options], with LAGO_TIMEOUT_SECONDS."""
    lago = client().invoices
    send = send_post_request if action == "void" else send_put_request
    response = send(
        url=make_url(origin=lago.base_url, path_parts=(lago.API_RESOURCE, str(invoice_id), action)),
        content=to_json(body) if body else None,
        headers=make_headers(api_key=lago.api_key), timeout=timeout(),
        rate_limit_retry_config=lago.rate_limit_retry_config,
    )
    return prepare_object_response(response_model=InvoiceResponse, data=get_response_data(response=response, key="invoice"))


def void_credit_note(credit_note_id) -> CreditNoteResponse:
    """PUT /credit_notes/{id}/void, with LAGO_TIMEOUT_SECONDS (the client's credit_notes.void sends none)."""
    lago = client().credit_notes
    response = send_put_request(
        url=make_url(origin=lago.base_url, path_parts=(lago.API_RESOURCE, str(credit_note_id), "void")),
        headers=make_headers(api_key=lago.api_key), timeout=timeout(),
        rate_limit_retry_config=lago.rate_limit_retry_config,
    )
    return prepare_object_response(response_model=CreditNoteResponse, data=get_response_data(response=response, key="credit_note"))


def pages(resource, options: dict | None = None, *, per_page: int = 500):
    """Every page of a list endpoint (`resource` is a client attribute: client().customers …), as lists of models."""
    lago = getattr(client(), resource)
    page = 1
    while True:
        answer = lago.find_all({**(options or {}), "page": page, "per_page": per_page}, timeout=timeout())
        yield answer[lago.API_RESOURCE]
        next_page = (answer.get("meta") or {}).get("next_page")
        if not next_page:
            return
        page = next_page


def error_code(error: Exception) -> str | None:
    body = getattr(error, "response", None)
    return body.get("code") if isinstance(body, dict) else None


def describe(error: Exception) -> str:
    """What Lago said, for the operator: '<error>: <code> (<details>)', or why there was no answer."""
    if isinstance(error, httpx.TimeoutException):
        return f"Lago did not answer within {config.timeout_seconds():g} s"
    if isinstance(error, httpx.HTTPError):
        return f"Lago could not be reached ({type(error).__name__}: {error})"
    if isinstance(error, ResponseShapeError):
        return f"Lago's answer is not an invoice the client accepts ({error.errors()[0]['loc']}: {error.errors()[0]['msg']})"
    body = getattr(error, "response", None)
    if isinstance(body, dict):
        parts = [str(body.get("error") or error.detail or "error")]
        if body.get("code"):
            parts.append(str(body["code"]))
        text = ": ".join(parts)
        if body.get("error_details"):
            text += f" {body['error_details']}"
        return f"{text} (HTTP {error.status_code})"
    return f"HTTP {getattr(error, 'status_code', '?')} {getattr(error, 'detail', '') or ''}".strip()

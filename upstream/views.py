"""Lago's webhooks → a targeted sync of the invoice they name: POST /upstream/webhooks.

Verified before anything is read (keys and URLs from upstream.config): `hmac` against LAGO_WEBHOOK_HMAC_KEY (base64 HMAC-SHA256 of the
body), `jwt` (RS256 over {"data": <body>, "iss": Lago's LAGO_API_URL}) against Lago's public key from GET
/webhooks/json_public_key, fetched once per process and Lago server; the issuer must be
LAGO_WEBHOOK_ISSUER, by default LAGO_API_URL (the same server seen from here). X-Lago-Unique-Key is the run's trigger.
"""
import base64
import hashlib
import hmac
import json

import jwt
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from . import client, config, sync

# Lago's public key per LAGO_API_URL (Lago's docs: persist it rather than ask for each webhook).
_public_keys: dict[str, bytes] = {}


def _jwt_key() -> bytes:
    url = config.api_url()
    if url not in _public_keys:
        _public_keys[url] = client.client().webhooks.public_key()
    return _public_keys[url]


def _issuer() -> str:
    return config.webhook_issuer()


def verify(body: bytes, signature: str, algorithm: str) -> bool:
    if algorithm == "hmac":
        key = config.webhook_hmac_key()
        if not key or not signature:
            return False
        expected = base64.b64encode(hmac.new(key.encode(), body, hashlib.sha256).digest()).decode()
        return hmac.compare_digest(expected, signature)
    if algorithm == "jwt":
        try:
            claims = jwt.decode(signature, _jwt_key(), algorithms=["RS256"], options={"require": ["data", "iss"]})
        except (jwt.PyJWTError, *client.FAILURES):
            return False
        # Compared here rather than by jwt.decode(issuer=…): Lago's LAGO_API_URL may or may not end in "/".
        return str(claims["iss"]).rstrip("/") == _issuer() and claims["data"] == body.decode(errors="replace")
    return False


@csrf_exempt
@require_POST
def webhook(request):
    if not config.enabled():
        return JsonResponse({"error": "Standalone mode: no Lago webhooks expected"}, status=404)
    body = request.body
    if not verify(body, request.headers.get("X-Lago-Signature", ""), request.headers.get("X-Lago-Signature-Algorithm", "hmac")):
        return JsonResponse({"error": "Invalid signature"}, status=401)
    try:
        payload = json.loads(body)
    except ValueError:
        return JsonResponse({"error": "Body is not JSON"}, status=400)
    invoice_id = None
    if payload.get("object_type") == "invoice":
        invoice_id = (payload.get("invoice") or {}).get("lago_id")
    elif isinstance(payload.get(payload.get("object_type") or ""), dict):
        invoice_id = payload[payload["object_type"]].get("lago_invoice_id")
    if not invoice_id:
        return JsonResponse({"synced": None})
    run = sync.sync_invoice(invoice_id, trigger=f"webhook:{request.headers.get('X-Lago-Unique-Key', '')}"[:64])
    return JsonResponse({"synced": invoice_id, "sync_run": run.pk, "errors": run.errors}, status=200 if run.ok else 502)

"""Lago's incoming webhooks, POST /upstream/webhooks: both signature schemes, against a real upstream.

The jwt signatures are made by the upstream itself (this project standalone, its `webhooks.signing` and its
own RSA key file), and the console fetches the public key from the upstream's GET /webhooks/json_public_key
through lago-python-client, as against Lago. A valid signature syncs the one invoice the event names; any
bad or absent signature answers 401 and syncs nothing.
"""
import base64
import hashlib
import hmac
import json
import subprocess
import uuid

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from invoices.models import Invoice
from upstream import sync
from upstream.models import SyncRun

from .upstream_support import PYTHON, ROOT, lago_mode, proxy, upstream  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)

SIGN = """
import json, os, jwt
from webhooks.signing import jwt_signature, private_key_pem
jobs = json.loads(os.environ["SIGN_JOBS"])
print(json.dumps([jwt_signature(body.encode()) if iss is None else
                  jwt.encode({"data": body, **({"iss": iss} if iss else {})}, private_key_pem(), algorithm="RS256")
                  for body, iss in jobs]))
"""


def upstream_signatures(upstream, jobs, public_url: str) -> list[str]:
    """jwt signatures by the upstream's own code and key: [body, None] with its PUBLIC_URL as issuer, [body, iss]
    with another, [body, ""] with none."""
    out = subprocess.run([PYTHON, "manage.py", "shell", "-c", SIGN], cwd=ROOT, check=True, capture_output=True, text=True,
                         env={**upstream.env, "PUBLIC_URL": public_url, "SIGN_JOBS": json.dumps(jobs)}).stdout
    return json.loads(out.strip().splitlines()[-1])


def hmac_signature(key: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(key.encode(), body, hashlib.sha256).digest()).decode()


def invoice_event(pk) -> bytes:
    return json.dumps({"webhook_type": "invoice.created", "object_type": "invoice", "organization_id": str(uuid.uuid4()),
                       "invoice": {"lago_id": pk, "status": "finalized"}}).encode()


def deliver(client, body: bytes, signature: str | None, algorithm: str | None, unique_key: str = ""):
    headers = {"HTTP_X_LAGO_UNIQUE_KEY": unique_key or str(uuid.uuid4())}
    if signature is not None:
        headers["HTTP_X_LAGO_SIGNATURE"] = signature
    if algorithm is not None:
        headers["HTTP_X_LAGO_SIGNATURE_ALGORITHM"] = algorithm
    return client.post("/upstream/webhooks", body, content_type="application/json", **headers)


@pytest.fixture
def finalized_in_lago(lago_mode, upstream):
    """Two drafts mirrored here, then both finalized in Lago behind the console's back: (named, other)."""
    ids = upstream.seed(2, drafts=2, prefix=f"wh{uuid.uuid4().hex[:8]}")
    assert sync.run_full_sync(trigger="test").ok
    for pk in ids:
        assert upstream.request("PUT", f"invoices/{pk}/finalize").status_code == 200
    assert Invoice.objects.filter(pk__in=ids, status="draft").count() == 2
    return ids


def assert_nothing_synced(ids):
    assert Invoice.objects.filter(pk__in=ids, status="draft").count() == len(ids)
    assert not SyncRun.objects.filter(kind=SyncRun.Kind.INVOICE).exists()


def test_a_jwt_signed_event_syncs_only_the_invoice_it_names(client, upstream, finalized_in_lago, lago_mode):
    named, other = finalized_in_lago
    body = invoice_event(named)
    [signature] = upstream_signatures(upstream, [[body.decode(), None]], public_url=lago_mode.url)

    response = deliver(client, body, signature, "jwt", unique_key="lago-webhook-1")

    assert response.status_code == 200, response.content
    assert response.json()["synced"] == named and response.json()["errors"] == []
    lago = upstream.get(f"invoices/{named}")["invoice"]
    mirror = Invoice.objects.get(pk=named)
    assert (mirror.status, mirror.number, mirror.total_amount_cents) == ("finalized", lago["number"], lago["total_amount_cents"])
    assert Invoice.objects.get(pk=other).status == "draft"  # targeted: the other one waits for the next sync
    run = SyncRun.objects.get(kind=SyncRun.Kind.INVOICE)
    assert run.ok and run.trigger == "webhook:lago-webhook-1" and run.counts["invoices"] == 1


def test_a_fee_event_syncs_the_invoice_of_the_fee(client, upstream, finalized_in_lago, lago_mode):
    named, _ = finalized_in_lago
    fee = upstream.get(f"invoices/{named}")["invoice"]["fees"][0]
    body = json.dumps({"webhook_type": "fee.created", "object_type": "fee", "fee": {"lago_id": fee["lago_id"], "lago_invoice_id": named}}).encode()
    [signature] = upstream_signatures(upstream, [[body.decode(), None]], public_url=lago_mode.url)
    assert deliver(client, body, signature, "jwt").status_code == 200
    assert Invoice.objects.get(pk=named).status == "finalized"


def test_the_issuer_is_lago_api_url_with_or_without_its_trailing_slash(client, upstream, finalized_in_lago, lago_mode, settings):
    named, other = finalized_in_lago
    first, second = invoice_event(named), invoice_event(other)
    signed = upstream_signatures(upstream, [[first.decode(), f"{lago_mode.url}/"], [second.decode(), None]], public_url=lago_mode.url)
    settings.LAGO_API_URL = f"{lago_mode.url}/"
    assert deliver(client, first, signed[0], "jwt").status_code == 200
    settings.LAGO_API_URL = lago_mode.url
    assert deliver(client, second, signed[1], "jwt").status_code == 200
    assert Invoice.objects.filter(pk__in=finalized_in_lago, status="finalized").count() == 2


def test_lago_webhook_issuer_names_lagos_own_url_when_the_console_reaches_it_by_another(client, upstream, finalized_in_lago, settings):
    """Lago signs with its LAGO_API_URL (here the upstream's own address), the console talks to it through the proxy."""
    named, _ = finalized_in_lago
    body = invoice_event(named)
    [signature] = upstream_signatures(upstream, [[body.decode(), None]], public_url=upstream.url)
    assert deliver(client, body, signature, "jwt").status_code == 401  # not the issuer the console expects by default
    settings.LAGO_WEBHOOK_ISSUER = upstream.url
    assert deliver(client, body, signature, "jwt").status_code == 200
    assert Invoice.objects.get(pk=named).status == "finalized"


def test_refused_jwt_signatures_sync_nothing(client, upstream, finalized_in_lago, lago_mode):
    named, other = finalized_in_lago
    body = invoice_event(named)
    wrong_issuer, no_issuer, other_body = upstream_signatures(
        upstream, [[body.decode(), "https://not-lago.example.com"], [body.decode(), ""], [invoice_event(other).decode(), None]],
        public_url=lago_mode.url)
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    refused = {
        "absent": None,
        "empty": "",
        "not a JWT": "not-a-jwt",
        "another key pair": jwt.encode({"data": body.decode(), "iss": lago_mode.url}, stranger, algorithm="RS256"),
        "wrong issuer": wrong_issuer,
        "no issuer": no_issuer,
        "signs another body": other_body,
        "alg none": jwt.encode({"data": body.decode(), "iss": lago_mode.url}, None, algorithm="none"),
    }
    for case, signature in refused.items():
        response = deliver(client, body, signature, "jwt")
        assert (response.status_code, response.json()) == (401, {"error": "Invalid signature"}), case
    assert_nothing_synced(finalized_in_lago)


def test_an_hmac_signed_event_syncs_and_refused_ones_do_not(client, upstream, finalized_in_lago, settings):
    named, other = finalized_in_lago
    body = invoice_event(named)
    for case, signature, algorithm in [
        ("absent", None, "hmac"),
        ("other key", hmac_signature("not-the-key", body), "hmac"),
        ("other body", hmac_signature("hmac-test-key", invoice_event(other)), "hmac"),
        ("unknown algorithm", hmac_signature("hmac-test-key", body), "sha1"),
        ("hex, not base64", hmac.new(b"hmac-test-key", body, hashlib.sha256).hexdigest(), "hmac"),
    ]:
        assert deliver(client, body, signature, algorithm).status_code == 401, case
    settings.LAGO_WEBHOOK_HMAC_KEY = ""  # no key configured: nothing verifies, not even a signature with an empty key
    assert deliver(client, body, hmac_signature("", body), "hmac").status_code == 401
    assert_nothing_synced(finalized_in_lago)

    settings.LAGO_WEBHOOK_HMAC_KEY = "hmac-test-key"
    response = deliver(client, body, hmac_signature("hmac-test-key", body), None)  # no algorithm header: hmac
    assert response.status_code == 200 and Invoice.objects.get(pk=named).status == "finalized"
    assert Invoice.objects.get(pk=other).status == "draft"


def test_standalone_expects_no_lago_webhooks(client, settings):
    settings.LAGO_API_URL = ""
    body = invoice_event(str(uuid.uuid4()))
    response = deliver(client, body, hmac_signature("hmac-test-key", body), "hmac")
    assert response.status_code == 404 and not SyncRun.objects.exists()

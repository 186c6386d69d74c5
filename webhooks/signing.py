"""The two signature schemes of Lago's webhooks, and the instance's RSA key.

- hmac: base64(HMAC-SHA256(endpoint secret, exact body bytes)).
- jwt:  RS256 JWT of {"data": <exact body string>, "iss": settings.PUBLIC_URL}, signed with the
        instance key; receivers get the public key from GET /api/v1/webhooks/json_public_key.

The private key comes from settings.WEBHOOK_PRIVATE_KEY (PEM, e.g. from a secret store), or else
from the PEM file at settings.WEBHOOK_PRIVATE_KEY_FILE, generated once on first use (mode 0600;
created with O_EXCL, so concurrent workers agree on one key).
"""
import base64
import functools
import hashlib
import hmac
import os

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings


def hmac_signature(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def jwt_signature(body: bytes) -> str:
    return jwt.encode({"data": body.decode(), "iss": settings.PUBLIC_URL}, private_key_pem(), algorithm="RS256")


def public_key_pem() -> bytes:
    key = serialization.load_pem_private_key(private_key_pem(), password=None)
    return key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def private_key_pem() -> bytes:
    if settings.WEBHOOK_PRIVATE_KEY:
        return settings.WEBHOOK_PRIVATE_KEY.encode()
    return _key_file_pem(str(settings.WEBHOOK_PRIVATE_KEY_FILE))


@functools.lru_cache(maxsize=4)
def _key_file_pem(path: str) -> bytes:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        pass
    os.makedirs(os.path.dirname(path), exist_ok=True)
    pem = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as handle:
        handle.write(pem)
    try:
        os.link(tmp, path)  # fails if another process won the race: then use its key
    except FileExistsError:
        pass
    finally:
        os.unlink(tmp)
    with open(path, "rb") as handle:
        return handle.read()

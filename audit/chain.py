"""The audit log's hash chain: canonical content and SHA-256 (pure; AuditChainHead.append writes under the lock).

hash(entry) = SHA-256 of the canonical JSON of the entry's content fields, its seq and the previous
entry's hash. Canonical: sorted keys, no spaces, UTF-8, datetimes in UTC ISO-8601 with microseconds,
JSON numbers that are whole written as integers (PostgreSQL's jsonb gives 1.0 back as 1 or 1.0 alike).
"""
import hashlib
import json
from datetime import timezone as dt_timezone

GENESIS = "0" * 64

# The fields a hash covers; changing this list changes every hash (a new chain version).
CONTENT_FIELDS = ["id", "created_at", "action", "source", "user_id", "api_key_name", "actor_label", "invoice_id",
                  "invoice_number", "customer_id", "customer_external_id", "customer_name", "object_type",
                  "object_id", "before", "after"]


def _plain(value):
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def canonical(entry) -> bytes:
    """The bytes the hash covers (works on model instances and historical models alike)."""
    content = {}
    for name in CONTENT_FIELDS:
        value = getattr(entry, name)
        if name == "created_at":
            value = value.astimezone(dt_timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        elif name in ("before", "after"):
            value = _plain(value)
        elif value is not None and not isinstance(value, str):
            value = str(value)  # UUIDs and integer ids
        content[name] = value
    content["seq"] = entry.seq
    content["prev_hash"] = entry.prev_hash
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def entry_hash(entry) -> str:
    return hashlib.sha256(canonical(entry)).hexdigest()


def chain_in_order(entries, seq: int, prev_hash: str) -> tuple[int, str]:
    """Give each entry, in order, the next seq, the previous hash and its own hash; returns the new head."""
    for entry in entries:
        seq += 1
        entry.seq, entry.prev_hash = seq, prev_hash
        entry.hash = prev_hash = entry_hash(entry)
    return seq, prev_hash


"""Verifying the audit log's hash chain, and the record of each verification.

verify() walks the entries in seq order and recomputes every hash: an altered row no longer matches its
hash, a removed row leaves a gap in seq (and a prev_hash that points at nothing), removed tail rows leave
the chain head ahead of the last entry. Each run is stored as an AuditVerification (not chained).
"""
import time
from dataclasses import dataclass, field

from .chain import GENESIS, entry_hash
from .models import AuditChainHead, AuditLogEntry, AuditVerification


@dataclass
class Problem:
    seq: int | None
    entry_id: str
    message: str

    def __str__(self):
        return f"seq {self.seq if self.seq is not None else '-'} (entry {self.entry_id}): {self.message}"


@dataclass
class Result:
    checked: int = 0
    head_hash: str = ""
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first_broken_seq(self):
        return next((p.seq for p in self.problems if p.seq is not None), None)


def verify(*, record: bool = True, chunk_size: int = 5000) -> Result:
    started = time.monotonic()
    result = Result()
    expected_seq, prev_hash = 1, GENESIS
    unchained = AuditLogEntry.objects.filter(seq__isnull=True).values_list("pk", flat=True)
    for pk in unchained[:100]:
        result.problems.append(Problem(None, str(pk), "not chained (no seq)"))
    for entry in AuditLogEntry.objects.filter(seq__isnull=False).order_by("seq").iterator(chunk_size=chunk_size):
        result.checked += 1
        if entry.seq != expected_seq:
            missing = f"{expected_seq}" if entry.seq == expected_seq + 1 else f"{expected_seq}..{entry.seq - 1}"
            result.problems.append(Problem(entry.seq, str(entry.pk), f"gap: seq {missing} missing (entry removed?)"))
        elif entry.prev_hash != prev_hash:
            result.problems.append(Problem(entry.seq, str(entry.pk), "prev_hash does not match the previous entry's hash"))
        if entry_hash(entry) != entry.hash:
            result.problems.append(Problem(entry.seq, str(entry.pk), "hash mismatch: the entry's content was altered"))
        expected_seq, prev_hash = entry.seq + 1, entry.hash
    head = AuditChainHead.objects.filter(pk=1).first()
    last_seq = expected_seq - 1
    if head is not None and head.seq != last_seq:
        result.problems.append(Problem(head.seq, "-", f"the chain head is at seq {head.seq} but the log ends at seq {last_seq} (entries removed at the end?)"))
    elif head is not None and last_seq and head.hash != prev_hash:
        result.problems.append(Problem(last_seq, "-", "the chain head's hash does not match the last entry"))
    result.head_hash = prev_hash if last_seq else ""
    if record:
        AuditVerification.objects.create(
            entries_checked=result.checked, ok=result.ok, first_broken_seq=result.first_broken_seq,
            problems=len(result.problems), head_hash=result.head_hash, duration_seconds=time.monotonic() - started,
        )
    return result


def last_verification() -> AuditVerification | None:
    """The most recent verify_audit_log run (for the close dashboard), or None if it never ran."""
    return AuditVerification.objects.order_by("-checked_at", "-id").first()

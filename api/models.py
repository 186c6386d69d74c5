"""API keys: what a caller of /api/v1 presents as `Authorization: Bearer <key>`.

The key is shown once, when created, and only its SHA-256 is stored. A salted slow
hash (make_password) is for low-entropy passwords; our keys are 32 random bytes, so a
plain SHA-256 is as safe against guessing and lets every request find its key with one
indexed lookup instead of a ~100 ms PBKDF2 per request.
"""
import hashlib
import secrets
import uuid

from django.db import models, transaction
from django.utils import timezone

from audit import log as audit_log

KEY_PREFIX = "bc_"


def new_raw_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_key(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode()).hexdigest()


class ApiKeyQuerySet(models.QuerySet):
    def active(self):
        return self.filter(revoked_at__isnull=True)

    def authenticate(self, raw_key: str):
        """The active key matching `raw_key`, or None."""
        if not raw_key:
            return None
        # Raw SQL: this runs on every API request, and compiling the ORM query costs more than running it.
        table = self.model._meta.db_table
        found = self.raw(f"SELECT * FROM {table} WHERE hashed_key = %s AND revoked_at IS NULL", [hash_key(raw_key)])
        return next(iter(found), None)


class ApiKey(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=100, unique=True, help_text="Shown as the actor in the audit log.")
    prefix = models.CharField(max_length=16, editable=False, help_text="The key's first characters, to recognise it.")
    hashed_key = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = ApiKeyQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = "API key"

    def __str__(self):
        return self.name

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    @classmethod
    def issue(cls, name: str, actor=None) -> tuple["ApiKey", str]:
        """Create a key; returns (row, raw key). The raw key is never stored: show it once."""
        raw = new_raw_key()
        key = cls(name=name)
        key.set_key(raw)
        with transaction.atomic():
            key.save()
            if actor is not None:
                audit_log.record("api_key.created", actor, obj=key, after={"name": name, "prefix": key.prefix})
        return key, raw

    def set_key(self, raw: str) -> None:
        self.prefix, self.hashed_key = raw[:10], hash_key(raw)

    def revoke(self, actor=None) -> None:
        with transaction.atomic():
            if ApiKey.objects.filter(pk=self.pk, revoked_at__isnull=True).update(revoked_at=timezone.now()) and actor:
                audit_log.record("api_key.revoked", actor, obj=self, after={"name": self.name})
        self.refresh_from_db(fields=["revoked_at"])

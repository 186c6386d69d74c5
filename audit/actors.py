"""Who is acting: an operator, an API key or the system, and through which door."""
from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    source: str  # an AuditLogEntry.Source value
    user: object = None  # django.contrib.auth user, for the admin
    api_key_name: str = ""  # for the REST API

    @property
    def label(self) -> str:
        if self.user is not None:
            return self.user.get_username()
        if self.api_key_name:
            return f"api key: {self.api_key_name}"
        return "system"

    @classmethod
    def operator(cls, user, source="admin"):
        return cls(source=source, user=user)

    @classmethod
    def bulk_operator(cls, user):
        """An operator running an admin bulk action (the changelist's "Finalize selected invoices"…)."""
        return cls(source="admin_bulk", user=user)

    @classmethod
    def runbook(cls, user):
        """An operator through the runbook's JSON endpoint (/api/admin/…, session + CSRF)."""
        return cls(source="runbook", user=user)

    @classmethod
    def api_key(cls, name: str):
        return cls(source="api", api_key_name=name)

    @classmethod
    def system(cls, source="task"):
        return cls(source=source)

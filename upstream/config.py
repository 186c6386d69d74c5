"""Is upstream mode on, and how to reach Lago: read from settings at each call (tests override them)."""
from django.conf import settings


def enabled() -> bool:
    return bool(getattr(settings, "LAGO_API_URL", ""))


def invoice_url(invoice_id) -> str:
    """Where an operator sees the invoice in Lago itself (its front end serves /invoice/<id>/overview)."""
    front = getattr(settings, "LAGO_FRONT_URL", "") or settings.LAGO_API_URL
    return f"{front.rstrip('/')}/invoice/{invoice_id}/overview"

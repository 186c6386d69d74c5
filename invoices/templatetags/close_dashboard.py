"""`{% close_dashboard %}`: the close dashboard (invoices/dashboard.py), shown on the admin index."""
from django import template

from ..dashboard import close_dashboard as compute

register = template.Library()


@register.inclusion_tag("admin/invoices/close_dashboard.html", takes_context=True)
def close_dashboard(context):
    return {"dashboard": compute(), "perms": context.get("perms"), "request": context.get("request")}

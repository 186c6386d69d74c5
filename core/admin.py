"""Admin building blocks every app's admin shares: the read-only admin and the permission check of extra views.

Django's admin only (a kernel module: no project app).
"""
from functools import wraps

from django.core.exceptions import PermissionDenied


class ReadOnlyAdminMixin:
    """Rows that are viewed, never added or edited here (logs, ledgers, outboxes); for ModelAdmin and inlines.

    Viewing needs the view permission. Rows are not deletable either unless `deletable` says so.
    """

    deletable = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return self.deletable and super().has_delete_permission(request, obj)


def permission_required(permission: str):
    """For an extra admin view `view(model_admin, request, ...)`: without `permission`, PermissionDenied.

    The PermissionDenied names the permission, and the project's 403 page (billing_console/errors.py,
    templates/403.html) shows it to the operator.
    """

    def decorate(view):
        @wraps(view)
        def checked(model_admin, request, *args, **kwargs):
            if not request.user.has_perm(permission):
                raise PermissionDenied(f"This needs the permission “{permission}”, which your account does not have.")
            return view(model_admin, request, *args, **kwargs)

        return checked

    return decorate


def bind(model_admin, view):
    """`view(model_admin, request, *args)` as the view of an extra admin URL: behind the admin's login, in its namespace."""

    def bound(request, *args, **kwargs):
        request.current_app = model_admin.admin_site.name
        return view(model_admin, request, *args, **kwargs)

    return model_admin.admin_site.admin_view(bound)

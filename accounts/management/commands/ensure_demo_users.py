"""Create the demo sign-ins printed by bin/demo; safe to run again (it only fixes what differs)."""
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from accounts.roles import AUDITORS, BILLING_OPERATORS, ensure_groups

DEMO_USERS = [
    # username, password, group, superuser
    ("operator", "operator-demo", BILLING_OPERATORS, False),
    ("auditor", "auditor-demo", AUDITORS, False),
    ("admin", "admin-demo", None, True),
]


class Command(BaseCommand):
    help = "Create the demo users operator, auditor and admin (idempotent)."

    def handle(self, *args, **options):
        groups = ensure_groups()
        User = get_user_model()
        for username, password, group, superuser in DEMO_USERS:
            user, created = User.objects.get_or_create(username=username)
            changed = created
            for field, value in (("is_staff", True), ("is_active", True), ("is_superuser", superuser)):
                if getattr(user, field) != value:
                    setattr(user, field, value)
                    changed = True
            if not user.check_password(password):
                user.set_password(password)
                changed = True
            if changed:
                user.save()
            if group:
                user.groups.set([groups[group]])
            self.stdout.write(f"{'created' if created else 'checked'} {username} / {password}")

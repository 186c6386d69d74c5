from django.core.management.base import BaseCommand, CommandError

from api.models import ApiKey
from audit.actors import Actor


class Command(BaseCommand):
    help = "Create an API key for /api/v1 and print it once (only its hash is stored)."

    def add_arguments(self, parser):
        parser.add_argument("name", help="A name for the key, shown as the actor in the audit log.")

    def handle(self, *args, name, **options):
        if ApiKey.objects.filter(name=name).exists():
            raise CommandError(f"An API key named {name!r} already exists.")
        _, raw = ApiKey.issue(name, Actor.system(source="command"))
        self.stdout.write(raw)

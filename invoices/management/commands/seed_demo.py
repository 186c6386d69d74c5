from django.core.management.base import BaseCommand

from invoices.demo import ENTITY_CODE, seed_demo


class Command(BaseCommand):
    help = "Create the demo billing entity, customers and invoices (idempotent: does nothing if they exist)."

    def handle(self, *args, **options):
        if not seed_demo(stdout=self.stdout):
            self.stdout.write(f"Demo data already present (billing entity {ENTITY_CODE}); nothing changed.")

from django.core.management.base import BaseCommand

from demo.seed import seed_demo


class Command(BaseCommand):
    help = "Give the default billing entity the demo seller's details, create the demo customers and invoices (idempotent: does nothing if they exist)."

    def handle(self, *args, **options):
        if not seed_demo(stdout=self.stdout):
            self.stdout.write(f"Demo data already present (its customers exist); nothing changed.")

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from upstream import config, sync


class Command(BaseCommand):
    help = "Mirror billing entities, customers, plans, subscriptions and invoices (fees, taxes) from Lago (upstream mode)."

    def add_arguments(self, parser):
        parser.add_argument("--invoice", help="Mirror only this Lago invoice id (GET /invoices/{id}).")

    def handle(self, *args, invoice=None, **options):
        if not config.enabled():
            raise CommandError("Standalone mode: set LAGO_API_URL and LAGO_API_KEY to sync from a Lago server.")
        if invoice:
            run = sync.sync_invoice(invoice, trigger="command")
        else:
            bars = {}

            def progress(resource, n):
                if resource not in bars:
                    bars[resource] = tqdm(desc=resource, unit=" rows", file=self.stderr, leave=True)
                bars[resource].update(n)

            run = sync.run_full_sync(trigger="command", progress=progress)
            for bar in bars.values():
                bar.close()
        self.stdout.write(f"sync run {run.pk}: {run.counts}")
        if run.errors:
            raise CommandError(f"sync run {run.pk} had errors: {run.errors}")

from django.core.management.base import BaseCommand
from tqdm import tqdm

from invoices.models import Invoice
from invoices.tasks import finalize_due_invoices

from ._at import parse_at


class Command(BaseCommand):
    help = "Finalize the drafts whose grace period has ended (in batches; safe to run beside the worker)."

    def add_arguments(self, parser):
        parser.add_argument("--at", help="Treat this ISO 8601 date-time as now (default: now).")
        parser.add_argument("--batch-size", type=int, default=500)

    def handle(self, *args, at=None, batch_size=500, **options):
        now = parse_at(at)
        with tqdm(total=Invoice.objects.due(now).count(), unit="invoice", disable=options["verbosity"] == 0, file=self.stderr) as bar:
            done = finalize_due_invoices(now, batch_size=batch_size, on_batch=lambda outcomes: bar.update(len(outcomes)))
        self.stdout.write(f"{done} invoices finalized or closed.")

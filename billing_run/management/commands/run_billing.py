from django.core.management.base import BaseCommand
from tqdm import tqdm

from audit.actors import Actor
from billing_run.billing import run_billing
from subscriptions.models import Subscription
from billing_run.termination import terminate_ended_subscriptions

from ._at import parse_at


class Command(BaseCommand):
    help = "Create the invoice of every subscription period that has ended (re-running never duplicates)."

    def add_arguments(self, parser):
        parser.add_argument("--at", help="Bill as of this ISO 8601 date-time (default: now).")

    def handle(self, *args, at=None, **options):
        now = parse_at(at)
        terminate_ended_subscriptions(now, Actor.system("command"))
        with tqdm(total=Subscription.objects.count(), unit="subscription", disable=options["verbosity"] == 0, file=self.stderr) as bar:
            result = run_billing(now, actor=Actor.system("command"), on_subscription=lambda _: bar.update(1))
        self.stdout.write(
            f"{result.created} invoices created: {result.drafts} drafts, {result.finalized} finalized, {result.closed} closed."
        )

"""What the billing run's django-q2 schedule calls (`billing_run.tasks.run_billing`)."""
from .billing import run_billing as run
from .termination import terminate_ended_subscriptions


def run_billing(now=None):
    """Subscriptions whose `ending_at` has passed are terminated first, so their final period is billed now."""
    terminate_ended_subscriptions(now)
    return run(now)

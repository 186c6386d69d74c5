"""What the billing run's django-q2 schedule calls (`billing_run.tasks.run_billing`)."""
from .billing import run_billing as run


def run_billing(now=None):
    return run(now)

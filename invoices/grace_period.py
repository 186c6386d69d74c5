"""The grace period: when a subscription draft is finalized by itself.

Contract (implemented by the subscriptions/grace-period issue):
    grace_period_changed(*, actor, customer=None, billing_entity=None, previous_days=None, now=None) -> None
Called in the transaction that saved a new grace period on a customer or a billing entity
(admin and API alike): moves the deadlines of the affected drafts and queues, on commit, the
finalization of those whose new deadline has passed. Writes the audit entry for the setting change.
"""


def grace_period_changed(*, actor, customer=None, billing_entity=None, previous_days=None, now=None) -> None:
    raise NotImplementedError("Grace-period changes arrive with the grace-period issue.")

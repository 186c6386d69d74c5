from django.apps import AppConfig


class UpstreamConfig(AppConfig):
    """Upstream mode: the console in front of a Lago server (README "In front of a Lago server").

    Wires itself into lower apps here (as webhook payload builders are): the delegates of the
    transition hooks (`invoices.transitions.delegation`: finalize, refresh, void, one-off invoice,
    credit note and its void, fee edit, regenerate) that every door reaches through its transition, after migrate the
    sync schedule, the readiness checks and the close dashboard's sync panel. All do nothing in standalone mode.
    """

    name = "upstream"
    verbose_name = "Upstream (Lago)"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from django.db.models.signals import post_migrate

        from invoices.transitions import delegation

        from . import config, operations, schedules
        from .finalization import finalize_many

        for hook, delegate in [
            (delegation.FINALIZE, finalize_many), (delegation.REFRESH, operations.refresh), (delegation.VOID, operations.void),
            (delegation.ONE_OFF, operations.one_off), (delegation.CREDIT_NOTE, operations.credit_note),
            (delegation.FEE_EDIT, operations.refuse_fee_edit), (delegation.CREDIT_NOTE_VOID, operations.void_credit_note),
            (delegation.REGENERATE, operations.refuse_regenerate),
        ]:
            delegation.delegate_to(hook, delegate, when=config.enabled)
        post_migrate.connect(schedules.ensure_schedule, sender=self)
        from django.db.models.signals import post_delete, post_save

        from .models import UpstreamSettings

        for signal in (post_save, post_delete):  # the admin's configuration, read through a cache (upstream/config.py)
            signal.connect(config.forget, sender=UpstreamSettings, dispatch_uid="upstream-config-forget")

        from .readiness import register as register_readiness_checks

        register_readiness_checks()  # a mirrored draft changed in Lago, or synced too long ago (upstream/readiness.py)

        from invoices.dashboard import add_panel

        from .dashboard import TEMPLATE, sync_panel

        add_panel("upstream_sync", TEMPLATE, sync_panel, when=config.enabled)  # the close dashboard: the last sync runs

from django.apps import AppConfig


class CreditNotesConfig(AppConfig):
    name = "credit_notes"
    verbose_name = "Credit notes"

    def ready(self):
        from webhooks.payloads import register

        from .serializers import webhook_credit_notes

        register("credit_note", webhook_credit_notes)

from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Demo data (`manage.py seed_demo`): above every app, since it drives the API and the billing run."""

    name = "demo"
    verbose_name = "Demo data"

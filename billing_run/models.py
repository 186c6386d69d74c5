# No models: the billing run owns none (invoices and subscriptions keep theirs). The module exists
# because Django sends post_migrate only to apps with a models module, and `ensure_schedules`
# (apps.py) listens for this app's.

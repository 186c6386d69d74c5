"""The subscription billing run: above invoices (it creates and finalizes them), below the doors.

`billing` (one invoice per subscription and ended period), `termination` (a terminated
subscription's final invoice), `schedules` and `checks` (the django-q2 schedules), `tasks`
(what the schedules call), and the `run_billing` / `finalize_due_invoices` commands.
Rating (periods, fee pricing) stays in `subscriptions/`, below invoices.
"""

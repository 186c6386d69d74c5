"""/api/v1 routes: no trailing slashes (lago-python-client sends none), CSRF-exempt views."""
from django.urls import path, re_path
from django.views.decorators.csrf import csrf_exempt

from .views import (add_ons, billable_metrics, billing_entities, coupons, credit_notes, customers, events, invoices, meta, plans,
                    subscriptions, webhook_endpoints)
from .views import activity_logs, customer_children, fees, taxes, wallets  # issue 10 (part A)
from .views import previews, updates

urlpatterns = [
    path("openapi.json", meta.openapi_view),
    # issue 10: previews, estimates, usage, updates and deletes
    # (before the resources' own routes: /invoices/preview before /invoices/<id>; the member views here
    # serve the resources' older methods too, in api/views/updates.py)
    path("invoices/preview", previews.invoice_preview_view),
    path("credit_notes/estimate", previews.credit_note_estimate_view),
    path("customers/<str:external_id>/current_usage", previews.current_usage_view),
    path("credit_notes/<str:credit_note_id>", updates.credit_note_member),
    path("events", updates.events_collection),
    path("billable_metrics/<str:code>", updates.billable_metric_member),
    path("plans/<str:code>", updates.plan_member),
    path("subscriptions/<str:external_id>", updates.subscription_member),
    # end of issue 10's block
    path("billing_entities", billing_entities.collection),
    path("billing_entities/<str:code>", billing_entities.member),
    path("organizations", billing_entities.organization),
    path("customers", customers.collection),
    path("customers/<str:external_id>", customers.member),
    path("add_ons", add_ons.collection),
    path("add_ons/<str:code>", add_ons.member),
    path("invoices", invoices.collection),
    path("invoices/<str:invoice_id>", invoices.member),
    path("invoices/<str:invoice_id>/finalize", invoices.finalize_view),
    path("invoices/<str:invoice_id>/download", invoices.download_view),
    path("invoices/<str:invoice_id>/void", invoices.void_view),
    path("invoices/<str:invoice_id>/refresh", invoices.refresh_view),
    path("coupons", coupons.collection),
    path("coupons/<str:code>", coupons.member),
    path("applied_coupons", coupons.applied_collection),
    path("credit_notes", credit_notes.collection),
    path("credit_notes/<str:credit_note_id>/void", credit_notes.void_view),
    path("credit_notes/<str:credit_note_id>/download", credit_notes.download_view),
    path("events/batch", events.batch_view),
    path("events/<str:transaction_id>", events.member),
    path("billable_metrics", billable_metrics.collection),
    path("plans", plans.collection),
    path("subscriptions", subscriptions.collection),
    path("webhook_endpoints", webhook_endpoints.collection),
    path("webhook_endpoints/<str:lago_id>", webhook_endpoints.member),
    path("webhooks/json_public_key", webhook_endpoints.json_public_key_view),
    path("webhooks/public_key", webhook_endpoints.public_key_view),
    # issue 10: taxes, wallets, fees, activity logs, customer children
    path("taxes", taxes.collection),
    path("taxes/<str:code>", taxes.member),
    path("wallets", wallets.collection),
    path("wallets/<str:lago_id>", wallets.member),
    path("wallets/<str:lago_id>/wallet_transactions", wallets.wallet_transactions),
    path("wallet_transactions", wallets.transactions_collection),
    path("fees", fees.collection),
    path("fees/<str:lago_id>", fees.member),
    path("customers/<str:external_customer_id>/invoices", customer_children.invoices_view),
    path("customers/<str:external_customer_id>/credit_notes", customer_children.credit_notes_view),
    path("customers/<str:external_customer_id>/subscriptions", customer_children.subscriptions_view),
    path("customers/<str:external_customer_id>/applied_coupons", customer_children.applied_coupons_view),
    path("customers/<str:external_customer_id>/applied_coupons/<str:applied_coupon_id>", customer_children.applied_coupon_member),
    path("activity_logs", activity_logs.collection),
    path("activity_logs/<str:activity_id>", activity_logs.member),
    # end of issue 10
    re_path(r"^(?P<rest>.*)$", csrf_exempt(meta.unknown_route)),
]

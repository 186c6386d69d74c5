"""Admin for billing entities, customers and taxes.

A changed grace period is not just a field: drafts' deadlines move (and the
ones now due get finalized), so saving one calls `grace_period_changed` in the
same transaction as the save. Before that, a change that would finalize drafts at once asks for
confirmation, naming how many (the count is `plan_grace_period_change`, the rule the save applies).
"""
from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.db import transaction
from django.template.response import TemplateResponse

from audit.actors import Actor
from invoices.grace_period import grace_period_changed, plan_grace_period_change
from invoices.admin.one_off import OneOffInvoiceAdminMixin, create_one_off_invoice_action

from .models import BillingEntity, Customer, CustomerMetadata, Tax


class GracePeriodAdminMixin:
    """Saves the object and, when its grace period changed, tells the grace-period service (one transaction)."""

    grace_period_target = None  # "customer" or "billing_entity"
    CONFIRM_FIELD = "_confirm_grace_period"

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        if request.method == "POST" and object_id and not request.POST.get(self.CONFIRM_FIELD):
            confirmation = self._grace_period_confirmation(request, object_id)
            if confirmation is not None:
                return confirmation
        return super().changeform_view(request, object_id, form_url, extra_context)

    def _grace_period_confirmation(self, request, object_id):
        """The confirmation page when the posted grace period would finalize drafts at once; else None."""
        obj = self.get_object(request, unquote(object_id))
        if obj is None or not self.has_change_permission(request, obj):
            return None
        previous = obj.invoice_grace_period
        form = self.get_form(request, obj, change=True)(request.POST, request.FILES, instance=obj)
        if not form.is_valid() or "invoice_grace_period" not in form.changed_data or previous == form.instance.invoice_grace_period:
            return None  # the normal view shows the errors, or there is nothing to confirm
        plan = plan_grace_period_change(previous_days=previous, **{self.grace_period_target: form.instance})
        if not plan.due:
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": f"Finalize {len(plan.due)} draft{'s' if len(plan.due) != 1 else ''} now?",
            "opts": self.opts,
            "original": obj,
            "plan": plan,
            "due_count": len(plan.due),
            "due_invoices": [invoice for invoice in plan.moved if invoice.pk in set(plan.due)][:50],
            "posted": [(key, value) for key in request.POST for value in request.POST.getlist(key)
                       if key not in ("csrfmiddlewaretoken", self.CONFIRM_FIELD)],
            "confirm_field": self.CONFIRM_FIELD,
        }
        return TemplateResponse(request, "admin/customers/grace_period_confirmation.html", context)

    def save_model(self, request, obj, form, change):
        with transaction.atomic():
            previous = None
            if change:
                previous = type(obj).objects.filter(pk=obj.pk).values_list("invoice_grace_period", flat=True).first()
            super().save_model(request, obj, form, change)
            if change and "invoice_grace_period" in form.changed_data and previous != obj.invoice_grace_period:
                grace_period_changed(
                    actor=Actor.operator(request.user), previous_days=previous, **{self.grace_period_target: obj}
                )


@admin.register(Tax)
class TaxAdmin(admin.ModelAdmin):
    """Writes go through customers.taxes (audit; drafts carrying the tax follow it), as /api/v1/taxes."""
    list_display = ["code", "name", "rate", "updated_at"]
    search_fields = ["code", "name"]

    def save_model(self, request, obj, form, change):
        from .taxes import FIELDS, create_tax, update_tax

        values = {field: getattr(obj, field) for field in FIELDS}
        actor = Actor.operator(request.user)
        saved = update_tax(obj, values, actor) if change else create_tax(values, actor)
        obj.pk, obj.created_at, obj.updated_at = saved.pk, saved.created_at, saved.updated_at

    def delete_model(self, request, obj):
        from .taxes import delete_tax

        delete_tax(obj, Actor.operator(request.user))

    def delete_queryset(self, request, queryset):
        for tax in queryset:
            self.delete_model(request, tax)


@admin.register(BillingEntity)
class BillingEntityAdmin(GracePeriodAdminMixin, admin.ModelAdmin):
    grace_period_target = "billing_entity"
    list_display = ["code", "name", "default_currency", "timezone", "document_numbering", "invoice_grace_period",
                    "net_payment_term", "finalize_zero_amount_invoice"]
    search_fields = ["code", "name", "legal_name"]
    filter_horizontal = ["taxes"]
    fieldsets = [
        (None, {"fields": ["code", "name", "is_default", "default_currency", "timezone", "email"]}),
        ("Legal and address", {"fields": ["legal_name", "legal_number", "tax_identification_number", "address_line1",
                                          "address_line2", "city", "state", "zipcode", "country"],
                               "classes": ["collapse"]}),
        ("Invoicing", {"fields": ["document_number_prefix", "document_numbering", "invoice_grace_period",
                                  "net_payment_term", "finalize_zero_amount_invoice", "requires_customer_tax_id", "taxes", "invoice_footer",
                                  "document_locale"]}),
    ]


class CustomerMetadataInline(admin.TabularInline):
    """Lago's customer metadata (at most 5); those shown on invoices print on the invoice page and PDF."""
    model = CustomerMetadata
    fields = ["key", "value", "display_in_invoice"]
    extra = 0
    max_num = CustomerMetadata.MAX_PER_CUSTOMER


@admin.register(Customer)
class CustomerAdmin(OneOffInvoiceAdminMixin, GracePeriodAdminMixin, admin.ModelAdmin):
    grace_period_target = "customer"
    # Short headers and a compact stylesheet: the list fits 1366 px (tests/test_browser_lists.py).
    list_display = ["external_id", "name", "currency", "applicable_timezone_column", "billing_entity",
                    "effective_grace_period_column", "empty_invoices_column"]
    list_filter = ["billing_entity", "currency", "finalize_zero_amount_invoice"]
    search_fields = ["external_id", "name", "email", "legal_name"]
    list_select_related = ["billing_entity"]
    actions = [create_one_off_invoice_action]
    filter_horizontal = ["taxes"]
    inlines = [CustomerMetadataInline]
    readonly_fields = ["sequential_id", "slug", "created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["external_id", "sequential_id", "slug", "billing_entity", "account_type", "customer_type", "name",
                           "firstname", "lastname", "email", "currency", "timezone", "logo_url"]}),
        ("Legal and address", {"fields": ["legal_name", "legal_number", "tax_identification_number", "phone", "url",
                                          "address_line1", "address_line2", "city", "state", "zipcode", "country"],
                               "classes": ["collapse"]}),
        ("Shipping address", {"fields": ["shipping_address_line1", "shipping_address_line2", "shipping_city",
                                         "shipping_state", "shipping_zipcode", "shipping_country"],
                              "classes": ["collapse"]}),
        ("Invoicing (empty: the billing entity's)", {"fields": ["invoice_grace_period", "net_payment_term",
                                                                 "finalize_zero_amount_invoice", "taxes", "document_locale"]}),
        ("Payment provider (stored for Lago clients; no provider is called)", {
            "fields": ["payment_provider", "payment_provider_code", "provider_customer_id", "sync", "sync_with_provider",
                       "provider_payment_methods"],
            "classes": ["collapse"]}),
        ("Record", {"fields": ["created_at", "updated_at"], "classes": ["collapse"]}),
    ]

    class Media:
        css = {"all": ["console/admin.css"]}

    @admin.display(description="empty invoices", ordering="finalize_zero_amount_invoice")
    def empty_invoices_column(self, customer):
        """The effective policy, short: "finalize" / "skip", "(entity's)" when inherited."""
        effective = "finalize" if customer.finalizes_empty_invoices() else "skip"
        inherited = customer.finalize_zero_amount_invoice == Customer.FinalizeZeroAmount.INHERIT
        return f"{effective} (entity's)" if inherited else effective

    @admin.display(description="time zone")
    def applicable_timezone_column(self, customer):
        return customer.applicable_timezone

    @admin.display(description="grace days")
    def effective_grace_period_column(self, customer):
        return customer.effective_grace_period

"""The admin's "Create one-off invoice" flow: lines -> Preview (totals with taxes) -> Create.

The forms only parse what the operator typed (numbers, dates, a price in major units);
every billing rule (defaults, currency, boundaries, taxes, "at least one line") is the
service's, in `invoices.transitions.one_off`, whose errors are put back on the right line and field.
The preview is the real creation rolled back, and Create is refused until the lines it
sends are the ones last previewed, so what the operator saw is what gets issued.
"""
import hashlib
import json
from datetime import datetime, time
from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path

from addons.models import AddOn
from audit.actors import Actor
from core.admin import bind, permission_required
from core.money import currency_exponent, format_amount, major_to_cents
from customers.models import Customer

from ..transitions.one_off import create_one_off_invoice, preview_one_off_invoice, resolve_currency

PERMISSION = "invoices.add_invoice"


class AddOnChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.name} ({obj.code}) — {format_amount(obj.amount_cents, obj.amount_currency)}"


class OneOffHeaderForm(forms.Form):
    currency = forms.CharField(
        max_length=3, required=False,
        help_text="The customer's currency once it has one; blank: the first add-on's currency.",
    )

    def __init__(self, *args, customer: Customer, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["currency"].initial = customer.currency
        if customer.currency:
            self.fields["currency"].disabled = True
            self.fields["currency"].help_text = "Fixed: every invoice of this customer is in its currency."


class OneOffLineForm(forms.Form):
    add_on = AddOnChoiceField(queryset=AddOn.objects.active(), label="Add-on")
    units = forms.DecimalField(required=False, initial=1, help_text="Blank: 1.", widget=forms.NumberInput(attrs={"step": "any", "style": "width:6em"}))
    unit_price = forms.DecimalField(
        required=False, label="Unit price", help_text="In the invoice currency; blank: the add-on's price (0 allowed).",
        widget=forms.NumberInput(attrs={"step": "any", "style": "width:8em"}),
    )
    description = forms.CharField(required=False, help_text="Blank: the add-on's description.", widget=forms.TextInput(attrs={"size": 28}))
    from_date = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    to_date = forms.DateField(required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}))


OneOffLineFormSet = forms.formset_factory(OneOffLineForm, extra=1, can_delete=True)

# Where the service's error fields land on a line form (None: the line's non-field errors).
LINE_FIELDS = {"add_on": "add_on", "units": "units", "unit_amount_cents": "unit_price", "boundaries": None, "tax_codes": None}


class OneOffInvoiceAdminMixin:
    """For the Customer ModelAdmin: the one-off view's URLs and the permission its action needs."""

    def get_urls(self):
        return urls(self) + super().get_urls()

    def has_add_invoice_permission(self, request):
        return request.user.has_perm(PERMISSION)


def urls(model_admin) -> list:
    return [path("<path:object_id>/one-off-invoice/", bind(model_admin, one_off_invoice_view), name="customers_customer_one_off_invoice")]


@admin.action(description="Create one-off invoice", permissions=["add_invoice"])
def create_one_off_invoice_action(modeladmin, request, queryset):
    customers = list(queryset[:2])
    if len(customers) != 1:
        modeladmin.message_user(request, "Select exactly one customer to create a one-off invoice for.", messages.WARNING)
        return None
    return redirect("admin:customers_customer_one_off_invoice", customers[0].pk)


@permission_required(PERMISSION)
def one_off_invoice_view(model_admin, request, object_id):
    customer = get_object_or_404(Customer.objects.select_related("billing_entity").filter(deleted_at__isnull=True), pk=object_id)
    header = OneOffHeaderForm(request.POST or None, customer=customer)
    formset = OneOffLineFormSet(request.POST or None, prefix="lines")
    preview = digest = None

    if request.method == "POST" and header.is_valid() and formset.is_valid():
        line_forms, fees, currency = _service_input(customer, header, formset)
        if fees is not None:
            digest = _digest(currency, fees)
            actor = Actor.operator(request.user)
            try:
                if "_create" in request.POST and request.POST.get("previewed") == digest:
                    invoice = create_one_off_invoice(customer, fees=fees, actor=actor, currency=currency)
                    messages.success(
                        request,
                        f"One-off invoice {invoice.number} was created and finalized: "
                        f"{format_amount(invoice.total_amount_cents, invoice.currency)}.",
                    )
                    return redirect("admin:invoices_invoice_change", invoice.pk)
                if "_create" in request.POST:
                    messages.warning(request, "The lines changed since the preview: check the totals below, then Create.")
                preview = _preview_context(preview_one_off_invoice(customer, fees=fees, actor=actor, currency=currency), customer)
            except ValidationError as error:
                _show_errors(error, header, formset, line_forms)
                digest = None

    context = {
        **model_admin.admin_site.each_context(request),
        "title": f"Create a one-off invoice for {customer}",
        "opts": model_admin.model._meta,
        "customer": customer,
        "header": header,
        "formset": formset,
        "preview": preview,
        "digest": digest,
        "add_on_defaults": {
            str(add_on.pk): {"price": _major(add_on.amount_cents, add_on.amount_currency), "description": add_on.description}
            for add_on in AddOn.objects.active()
        },
    }
    return TemplateResponse(request, "admin/invoices/one_off/form.html", context)


def _service_input(customer, header, formset):
    """The service's `fees` from the non-empty lines, with prices converted to minor units.

    Returns (line forms in service order, fees or None if a price had too many decimals, currency).
    """
    line_forms = [form for form in formset.forms if form.has_changed() and not form.cleaned_data.get("DELETE")]
    currency = header.cleaned_data.get("currency") or customer.currency or None
    try:
        invoice_currency = resolve_currency(customer, currency, [form.cleaned_data["add_on"] for form in line_forms])
    except ValidationError as error:
        _show_errors(error, header, formset, line_forms)
        return line_forms, None, currency
    tz = customer.tzinfo
    fees, ok = [], True
    for form in line_forms:
        data = form.cleaned_data
        item = {"add_on": data["add_on"], "units": data["units"], "description": data["description"]}
        if data["unit_price"] is not None:
            try:
                item["unit_amount_cents"] = major_to_cents(data["unit_price"], invoice_currency)
            except ValidationError as error:
                form.add_error("unit_price", error)
                ok = False
        # Whole days in the customer's time zone: from its first second to its last.
        item["from_datetime"] = datetime.combine(data["from_date"], time.min, tz) if data["from_date"] else None
        item["to_datetime"] = datetime.combine(data["to_date"], time(23, 59, 59), tz) if data["to_date"] else None
        fees.append(item)
    return line_forms, (fees if ok else None), currency


def _show_errors(error: ValidationError, header, formset, line_forms) -> None:
    # A refusal keyed by no field (upstream mode: what Lago answered) goes above the lines.
    for field_name, errors in (error.error_dict if hasattr(error, "error_dict") else {None: error.error_list}).items():
        for item in errors:
            message = item.message % item.params if item.params else item.message
            line = (item.params or {}).get("line")
            if field_name == "currency":
                header.add_error(None if header.fields["currency"].disabled else "currency", message)
            elif line and line <= len(line_forms):
                line_forms[line - 1].add_error(LINE_FIELDS.get(field_name), message)
            else:
                formset._non_form_errors.append(message)


def _digest(currency, fees) -> str:
    payload = [{**item, "add_on": item["add_on"].pk} for item in fees]
    return hashlib.sha256(json.dumps([currency, payload], default=str, sort_keys=True).encode()).hexdigest()


def _preview_context(preview, customer) -> dict:
    invoice = preview.invoice
    currency = invoice.currency
    tz = customer.tzinfo

    def money(cents):
        return format_amount(cents, currency)

    return {
        "currency": currency,
        "fees": [
            {
                "name": fee.display_name,
                "description": fee.description,
                "period": f"{fee.from_datetime.astimezone(tz):%Y-%m-%d} – {fee.to_datetime.astimezone(tz):%Y-%m-%d}",
                "units": f"{fee.units.normalize():f}",
                "unit_price": money(fee.unit_amount_cents),
                "amount": money(fee.amount_cents),
                "taxes": ", ".join(fee.tax_names) or "none",
                "tax_amount": money(fee.taxes_amount_cents),
            }
            for fee in preview.fees
        ],
        "taxes": [{"name": f"{t.tax_name} ({t.tax_rate.normalize():f} %)", "amount": money(t.amount_cents)} for t in preview.taxes],
        "fees_amount": money(invoice.fees_amount_cents),
        "taxes_amount": money(invoice.taxes_amount_cents),
        "total": money(invoice.total_amount_cents),
        "issuing_date": invoice.issuing_date,
        "payment_due_date": invoice.payment_due_date,
    }


def _major(cents: int, currency: str) -> str:
    return f"{Decimal(cents).scaleb(-currency_exponent(currency)):f}"

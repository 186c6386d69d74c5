"""Invoice-page tools for subscription drafts: "Refresh" and "Add a fee for a charge without usage".

Wired by `InvoiceAdmin`: `get_urls()` includes `draft_tools.urls(self)`, and two object tools
point at the URL names `invoices_invoice_refresh` (POST) and `invoices_invoice_add_charge_fee`.
Both views only call the services (`invoices.transitions.refresh.refresh_draft`, `invoices.transitions.fee_edits.add_fee`),
which lock the invoice, refuse non-drafts and write the audit entry.
"""
from decimal import Decimal

from django import forms
from django.contrib import messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from audit.actors import Actor
from core.admin import bind, permission_required
from core.money import currency_exponent, major_to_cents

from ..transitions import fee_edits
from ..models import Fee, Invoice
from ..transitions.refresh import refresh_draft

CHANGE_PERMISSION = "invoices.change_invoice"


def urls(model_admin) -> list:
    return [
        path("<path:object_id>/refresh/", bind(model_admin, refresh_view), name="invoices_invoice_refresh"),
        path("<path:object_id>/add-charge-fee/", bind(model_admin, add_charge_fee_view), name="invoices_invoice_add_charge_fee"),
    ]


def can_use_draft_tools(invoice) -> bool:
    """When the two buttons show: subscription drafts only."""
    return invoice.is_draft and invoice.subscription_id is not None


@permission_required(CHANGE_PERMISSION)
def refresh_view(model_admin, request, object_id):
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    invoice = _invoice(request, object_id)
    try:
        refreshed = refresh_draft(invoice.pk, Actor.operator(request.user))
    except ValidationError as error:
        model_admin.message_user(request, " ".join(error.messages), messages.ERROR)
    else:
        if refreshed.is_draft:
            model_admin.message_user(request, f"{refreshed.label} was refreshed from the usage of its billing period.", messages.SUCCESS)
        else:
            model_admin.message_user(request, f"{refreshed.label} is {refreshed.status}: nothing to refresh.", messages.WARNING)
    return HttpResponseRedirect(_change_url(invoice))


class ChargeFeeForm(forms.Form):
    MODES = [(Fee.Adjustment.TOTAL_UNITS, "Total units (priced by the charge model)"), (Fee.Adjustment.TOTAL_AMOUNT, "Total amount")]

    target = forms.ChoiceField(label="Charge", help_text="Charges (and filters) of the plan that have no fee on this invoice.")
    invoice_display_name = forms.CharField(label="Display name", required=False, max_length=255)
    mode = forms.ChoiceField(choices=MODES, widget=forms.RadioSelect, initial=Fee.Adjustment.TOTAL_UNITS)
    units = forms.DecimalField(label="Total units", required=False, min_value=0, max_digits=30, decimal_places=10)
    amount = forms.DecimalField(label="Total amount", required=False, min_value=0, max_digits=30, decimal_places=3,
                                help_text="In the invoice currency's major units (e.g. 12.50).")

    def __init__(self, *args, invoice: Invoice, **kwargs):
        super().__init__(*args, **kwargs)
        self.invoice = invoice
        self.targets = available_targets(invoice)
        self.fields["target"].choices = [(key, label) for key, (label, _, _) in self.targets.items()]
        self.fields["amount"].decimal_places = currency_exponent(invoice.currency)

    def clean(self):
        data = super().clean()
        mode = data.get("mode")
        if mode == Fee.Adjustment.TOTAL_UNITS and data.get("units") is None:
            self.add_error("units", "Enter the total units.")
        if mode == Fee.Adjustment.TOTAL_AMOUNT:
            if data.get("amount") is None:
                self.add_error("amount", "Enter the total amount.")
            else:
                try:
                    data["amount_cents"] = major_to_cents(data["amount"], self.invoice.currency)
                except ValidationError as error:
                    self.add_error("amount", error)
        return data


def available_targets(invoice) -> dict:
    """key -> (label, charge, filter) for the plan's charges and filters without a fee on the invoice."""
    taken = set(invoice.fees.filter(charge__isnull=False).values_list("charge_id", "charge_filter_id"))
    targets = {}
    charges = invoice.subscription.plan.charges.select_related("billable_metric").prefetch_related("filters")
    for charge in charges:
        if (charge.pk, None) not in taken:
            label = charge.display_name + (" (events matching no filter)" if charge.filters.all() else "")
            targets[str(charge.pk)] = (f"{label} — {charge.get_charge_model_display()}", charge, None)
        for charge_filter in charge.filters.all():
            if (charge.pk, charge_filter.pk) not in taken:
                targets[f"{charge.pk}:{charge_filter.pk}"] = (charge_filter.display_name, charge, charge_filter)
    return targets


@permission_required(CHANGE_PERMISSION)
def add_charge_fee_view(model_admin, request, object_id):
    invoice = _invoice(request, object_id)
    if not can_use_draft_tools(invoice):
        model_admin.message_user(request, f"{invoice.label} is not a subscription draft: no fee can be added.", messages.ERROR)
        return HttpResponseRedirect(_change_url(invoice))
    form = ChargeFeeForm(request.POST or None, invoice=invoice)
    if request.method == "POST" and form.is_valid():
        _, charge, charge_filter = form.targets[form.cleaned_data["target"]]
        mode = form.cleaned_data["mode"]
        try:
            fee = fee_edits.add_fee(
                invoice.pk, Actor.operator(request.user), kind=Fee.Kind.CHARGE,
                invoice_display_name=form.cleaned_data["invoice_display_name"],
                description=charge_filter.display_name if charge_filter else charge.display_name,
                adjustment=mode, units=form.cleaned_data.get("units"),
                amount_cents=form.cleaned_data.get("amount_cents") if mode == Fee.Adjustment.TOTAL_AMOUNT else None,
                subscription=invoice.subscription, charge=charge, charge_filter=charge_filter,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            model_admin.message_user(
                request, f"Fee “{fee.display_name}” added: {invoice.currency} {Decimal(fee.amount_cents).scaleb(-currency_exponent(invoice.currency))}.",
                messages.SUCCESS,
            )
            return HttpResponseRedirect(_change_url(invoice))
    context = {
        **model_admin.admin_site.each_context(request),
        "title": f"Add a fee to {invoice.label}",
        "opts": model_admin.opts,
        "invoice": invoice,
        "form": form,
        "change_url": _change_url(invoice),
    }
    return TemplateResponse(request, "admin/invoices/add_charge_fee.html", context)


def _invoice(request, object_id) -> Invoice:
    invoice = Invoice.objects.select_related("subscription__plan").filter(pk=unquote(object_id)).first()
    if invoice is None:
        raise Http404("That invoice does not exist.")
    return invoice


def _change_url(invoice) -> str:
    return reverse("admin:invoices_invoice_change", args=[invoice.pk])

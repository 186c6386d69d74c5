"""The invoice page's reversible side: void (with an optional credit note), regenerate, issue a credit note,
and a read-only panel of the coupons, credits and credit notes an invoice carries.

Wiring into InvoiceAdmin (which lives in invoices/admin/invoice.py):

    from . import reversal
    from .reversal import reversal_panel, void_selected_invoices

    class InvoiceAdmin(admin.ModelAdmin):
        actions = [..., void_selected_invoices]
        readonly_fields = [..., "reversal_panel"]
        change_form_template = ...  # include "admin/invoices/reversal/buttons.html" in object-tools

        def get_urls(self):
            return reversal.urls(self) + super().get_urls()

        @admin.display(description="Coupons, credits and credit notes")
        def reversal_panel(self, obj):
            return reversal_panel(obj)

Every view only collects input and calls the one service (void_invoice,
regenerate_from_voided, create_credit_note), which owns locking, audit and
webhooks; the views turn its ValidationError / InvoiceLocked into form errors
and messages. Permission: "invoices.change_invoice".
"""
from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils.safestring import mark_safe

from audit.actors import Actor
from core.admin import bind, permission_required
from core.money import currency_exponent, format_amount, major_to_cents

from ..models import Invoice, InvoiceLocked
from ..transitions.regeneration import regenerate_from_voided
from ..transitions.voiding import void_invoice

PERMISSION = "invoices.change_invoice"


def urls(model_admin) -> list:
    """URL patterns to put before ModelAdmin.get_urls(): <id>/void/, <id>/regenerate/, <id>/credit-note/."""
    info = model_admin.model._meta.app_label, model_admin.model._meta.model_name
    return [
        path("<path:object_id>/void/", bind(model_admin, void_view), name="%s_%s_void" % info),
        path("<path:object_id>/regenerate/", bind(model_admin, regenerate_view), name="%s_%s_regenerate" % info),
        path("<path:object_id>/credit-note/", bind(model_admin, credit_note_view), name="%s_%s_credit_note" % info),
    ]


# --- helpers --------------------------------------------------------------------------------------


def _url(model_admin, name, *args):
    return reverse(f"{model_admin.admin_site.name}:invoices_invoice_{name}", args=args)


def _context(model_admin, request, invoice, title, **extra):
    return {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "title": title,
        "invoice": invoice,
        "change_url": _url(model_admin, "change", invoice.pk),
        **extra,
    }


def _add_errors(form, err: ValidationError):
    if hasattr(err, "error_dict"):
        for field, errors in err.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, err)


class MoneyField(forms.CharField):
    """An amount typed in major units ("12.50"), turned into minor units of `currency` on clean."""

    def __init__(self, *args, currency="USD", **kwargs):
        self.currency = currency
        kwargs.setdefault("required", False)
        kwargs.setdefault("help_text", f"In {currency}, with up to {currency_exponent(currency)} decimals.")
        super().__init__(*args, **kwargs)

    def clean(self, value):
        value = super().clean(value)
        if value in ("", None):
            return 0
        cents = major_to_cents(value, self.currency)
        if cents < 0:
            raise ValidationError("Must not be negative.", code="invalid_value")
        return cents


# --- void -----------------------------------------------------------------------------------------


class VoidForm(forms.Form):
    generate_credit_note = forms.BooleanField(required=False, label="Issue a credit note as well")

    def __init__(self, *args, invoice, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["credit_amount"] = MoneyField(currency=invoice.currency, label="Credit (customer balance)")
        self.fields["refund_amount"] = MoneyField(currency=invoice.currency, label="Refund (recorded as pending)")


@permission_required(PERMISSION)
def void_view(model_admin, request, object_id):
    invoice = get_object_or_404(Invoice.objects.select_related("customer"), pk=object_id)
    form = VoidForm(request.POST if request.method == "POST" else None, invoice=invoice)
    if request.method == "POST" and form.is_valid():
        try:
            void_invoice(
                invoice.pk, Actor.operator(request.user), generate_credit_note=form.cleaned_data["generate_credit_note"],
                credit_amount_cents=form.cleaned_data["credit_amount"], refund_amount_cents=form.cleaned_data["refund_amount"],
            )
        except InvoiceLocked as err:
            model_admin.message_user(request, err.messages[0], messages.ERROR)
            return HttpResponseRedirect(_url(model_admin, "change", invoice.pk))
        except ValidationError as err:
            _add_errors(form, err)
        else:
            model_admin.message_user(request, f"Invoice {invoice.number} was voided.", messages.SUCCESS)
            return HttpResponseRedirect(_url(model_admin, "change", invoice.pk))
    return TemplateResponse(request, "admin/invoices/reversal/void.html", _context(
        model_admin, request, invoice, f"Void invoice {invoice.number}", form=form, panel=reversal_panel(invoice),
        total=invoice.display("total_amount_cents"),
        voidable=invoice.status == Invoice.Status.FINALIZED,
    ))


@admin.action(permissions=["change"], description="Void selected finalized invoices")
def void_selected_invoices(model_admin, request, queryset):
    """Bulk void, without credit notes, after a confirmation page (Django's delete_selected pattern).

    Each invoice is voided in its own transaction; successes and refusals are reported separately.
    """
    invoices = list(queryset.select_related("customer").order_by("number"))
    if request.POST.get("post") == "yes":
        done, refused = [], []
        for invoice in invoices:
            try:
                void_invoice(invoice.pk, Actor.operator(request.user))
                done.append(invoice.number)
            except (InvoiceLocked, ValidationError) as err:
                refused.append(f"{invoice.number}: {err.messages[0]}")
        if done:
            model_admin.message_user(request, f"Voided {len(done)} invoice(s): {', '.join(done)}.", messages.SUCCESS)
        for message in refused:
            model_admin.message_user(request, message, messages.WARNING)
        return None
    for invoice in invoices:
        invoice.total_display = invoice.display("total_amount_cents")
    voidable = [i for i in invoices if i.status == Invoice.Status.FINALIZED]
    return TemplateResponse(request, "admin/invoices/reversal/void_selected.html", {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "title": "Void invoices: are you sure?",
        "voidable": voidable,
        "not_voidable": [i for i in invoices if i.status != Invoice.Status.FINALIZED],
        "queryset": invoices,
        "action_checkbox_name": ACTION_CHECKBOX_NAME,
        "action": "void_selected_invoices",
    })


# --- regenerate -----------------------------------------------------------------------------------


@permission_required(PERMISSION)
def regenerate_view(model_admin, request, object_id):
    invoice = get_object_or_404(Invoice, pk=object_id)
    error = None
    if request.method == "POST":
        try:
            draft = regenerate_from_voided(invoice.pk, Actor.operator(request.user))
        except (InvoiceLocked, ValidationError) as err:
            error = err.messages[0]
        else:
            model_admin.message_user(request, f"Draft regenerated from {invoice.number}: review it and finalize it.", messages.SUCCESS)
            return HttpResponseRedirect(_url(model_admin, "change", draft.pk))
    return TemplateResponse(request, "admin/invoices/reversal/regenerate.html", _context(
        model_admin, request, invoice, f"Regenerate invoice {invoice.number}", error=error,
        fees=list(invoice.fees.all()), regeneratable=invoice.status == Invoice.Status.VOIDED,
    ))


# --- credit note ----------------------------------------------------------------------------------


class CreditNoteForm(forms.Form):
    def __init__(self, *args, invoice, fees, credited, **kwargs):
        from credit_notes.models import CreditNote

        super().__init__(*args, **kwargs)
        self.fields["reason"] = forms.ChoiceField(choices=CreditNote.Reason.choices)
        self.fields["description"] = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
        self.fee_fields = []
        for fee in fees:
            left = fee.amount_cents - credited.get(fee.pk, 0)
            name = f"fee_{fee.pk}"
            self.fields[name] = MoneyField(
                currency=invoice.currency, label=fee.display_name,
                help_text=f"Before coupons and taxes: {format_amount(left, invoice.currency)} left of {format_amount(fee.amount_cents, invoice.currency)}.",
            )
            self.fee_fields.append((name, fee))
        self.fields["credit_amount"] = MoneyField(currency=invoice.currency, label="Credit (customer balance)")
        self.fields["refund_amount"] = MoneyField(currency=invoice.currency, label="Refund (recorded as pending)")
        self.fields["offset_amount"] = MoneyField(currency=invoice.currency, label="Offset (reduces the amount due)")

    def items(self):
        return [{"fee_id": fee.pk, "amount_cents": self.cleaned_data[name]} for name, fee in self.fee_fields if self.cleaned_data[name]]


@permission_required(PERMISSION)
def credit_note_view(model_admin, request, object_id):
    from credit_notes.services import create_credit_note, creditable_amount_cents, fee_credited_amounts

    invoice = get_object_or_404(Invoice.objects.select_related("customer"), pk=object_id)
    fees = list(invoice.fees.all())
    form = CreditNoteForm(request.POST if request.method == "POST" else None, invoice=invoice, fees=fees, credited=fee_credited_amounts(invoice))
    if request.method == "POST" and form.is_valid():
        try:
            note = create_credit_note(
                invoice.pk, Actor.operator(request.user), reason=form.cleaned_data["reason"], description=form.cleaned_data["description"],
                items=form.items(), credit_amount_cents=form.cleaned_data["credit_amount"],
                refund_amount_cents=form.cleaned_data["refund_amount"], offset_amount_cents=form.cleaned_data["offset_amount"],
            )
        except ValidationError as err:
            _add_errors(form, err)
        else:
            model_admin.message_user(request, f"Credit note {note.number} was issued ({note.display('total_amount_cents')}).", messages.SUCCESS)
            return HttpResponseRedirect(_url(model_admin, "change", invoice.pk))
    return TemplateResponse(request, "admin/invoices/reversal/credit_note.html", _context(
        model_admin, request, invoice, f"Credit note on invoice {invoice.number}", form=form,
        creditable=format_amount(creditable_amount_cents(invoice), invoice.currency),
        allowed=invoice.status == Invoice.Status.FINALIZED and invoice.invoice_type != Invoice.InvoiceType.CREDIT,
    ))


# --- read-only panel ------------------------------------------------------------------------------


def reversal_panel(invoice: Invoice) -> str:
    """HTML for the invoice page: on a draft, what finalization will apply; otherwise what was applied and issued."""
    from coupons.models import Credit
    from coupons.services import pending_for
    from wallets.models import WalletTransaction

    if invoice.status == Invoice.Status.DRAFT:
        context = {"invoice": invoice, "draft": True, "pending": pending_for(invoice)}
    else:
        credits = list(Credit.objects.filter(invoice=invoice).select_related("applied_coupon__coupon", "credit_note").order_by("created_at"))
        context = {
            "invoice": invoice,
            "draft": False,
            "coupons": [(c.applied_coupon.coupon.name, format_amount(c.amount_cents, c.amount_currency)) for c in credits if c.applied_coupon_id],
            "credit_note_credits": [(c.credit_note, format_amount(c.amount_cents, c.amount_currency)) for c in credits if c.credit_note_id],
            "wallet_transactions": [
                (t, format_amount(t.amount_cents, t.wallet.currency))
                for t in WalletTransaction.objects.filter(invoice=invoice).select_related("wallet").order_by("created_at")
            ],
            "credit_notes": [_with_amounts(note) for note in invoice.credit_notes.order_by("created_at")],
            "regenerated": list(invoice.regenerated_invoices.order_by("created_at")),
        }
    return mark_safe(render_to_string("admin/invoices/reversal/panel.html", context))


def _with_amounts(note):
    note.amounts = (
        f"{note.display('total_amount_cents')}: credit {note.display('credit_amount_cents')}, "
        f"refund {note.display('refund_amount_cents')}, offset {note.display('offset_amount_cents')}"
    )
    return note

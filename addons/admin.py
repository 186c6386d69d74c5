"""Add-ons in the admin: the price is entered in the currency's major unit and stored in minor units."""
from decimal import Decimal

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError

from core.money import currency_exponent, format_amount, major_to_cents

from .models import AddOn


class AddOnForm(forms.ModelForm):
    amount = forms.CharField(label="Default unit price", help_text="In the currency's major unit: 500.00 for USD, 5000 for JPY.")

    class Meta:
        model = AddOn
        fields = ["code", "name", "invoice_display_name", "description", "amount", "amount_currency", "taxes"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        instance = self.instance
        if instance.pk:
            try:
                self.initial["amount"] = f"{Decimal(instance.amount_cents).scaleb(-currency_exponent(instance.amount_currency)):f}"
            except ValidationError:
                self.initial["amount"] = str(instance.amount_cents)
        else:
            self.initial.setdefault("amount", "0")

    def clean_amount_currency(self):
        return self.cleaned_data["amount_currency"].strip().upper()

    def clean(self):
        cleaned = super().clean()
        currency = cleaned.get("amount_currency")
        if currency and cleaned.get("amount") is not None and "amount" not in self.errors:
            try:
                cents = major_to_cents(cleaned["amount"], currency)
            except ValidationError as error:
                self.add_error("amount", error)
            else:
                if cents < 0:
                    self.add_error("amount", "The price must not be negative.")
                else:
                    self.instance.amount_cents = cents
        return cleaned


@admin.register(AddOn)
class AddOnAdmin(admin.ModelAdmin):
    form = AddOnForm
    list_display = ["code", "name", "invoice_display_name", "default_price", "tax_codes", "deleted_at"]
    list_filter = ["amount_currency", ("deleted_at", admin.EmptyFieldListFilter)]
    search_fields = ["code", "name", "invoice_display_name"]
    filter_horizontal = ["taxes"]
    readonly_fields = ["created_at", "updated_at"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("taxes")

    @admin.display(description="Default unit price", ordering="amount_cents")
    def default_price(self, obj):
        return format_amount(obj.amount_cents, obj.amount_currency)

    @admin.display(description="Taxes")
    def tax_codes(self, obj):
        return ", ".join(tax.code for tax in obj.taxes.all()) or "customer's"

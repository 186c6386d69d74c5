"""Wallets in the admin: creation and top-ups through `wallets.top_ups`, the ledger read-only."""
from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import ValidationError
from django.template.response import TemplateResponse

from audit.actors import Actor
from core.admin import ReadOnlyAdminMixin
from core.money import format_amount, major_to_cents, to_decimal

from .models import Wallet, WalletTransaction
from .top_ups import create_wallet, mark_top_up_paid, top_up


class WalletTransactionInline(admin.TabularInline):
    model = WalletTransaction
    fields = ["created_at", "transaction_type", "transaction_status", "status", "amount", "invoice"]
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False
    ordering = ["-created_at"]

    @admin.display(description="Amount")
    def amount(self, obj):
        return format_amount(obj.amount_cents, obj.wallet.currency)


class CreateWalletForm(forms.ModelForm):
    """Creating goes through `create_wallet` (one active wallet per currency, audit): the form only collects input."""

    actor = None
    granted_credits = forms.CharField(required=False, help_text="Optional credits granted at once, in the wallet's currency (e.g. 25.00).")

    class Meta:
        model = Wallet
        fields = ["customer", "name", "currency"]

    def _post_clean(self):
        if self.errors:
            return
        data = self.cleaned_data
        try:
            currency = (data["currency"] or data["customer"].currency or "").upper()
            granted = major_to_cents(data["granted_credits"], currency) if data.get("granted_credits") else 0
            self.instance = create_wallet(data["customer"], self.actor, currency=currency, name=data["name"], granted_cents=granted)
        except ValidationError as err:
            self._update_errors(err)


class TopUpForm(forms.Form):
    paid_credits = forms.CharField(required=False, help_text="Purchased: a credit invoice is issued; the balance grows when it is paid.")
    granted_credits = forms.CharField(required=False, help_text="Granted: added to the balance at once.")

    def clean(self):
        data = super().clean()
        for field in ("paid_credits", "granted_credits"):
            if data.get(field):
                try:
                    if to_decimal(data[field]) < 0:
                        self.add_error(field, "Must not be negative.")
                except ValidationError as err:
                    self.add_error(field, err)
        if not data.get("paid_credits") and not data.get("granted_credits"):
            raise ValidationError("Enter a paid or a granted amount.")
        return data


@admin.register(Wallet)
class WalletAdmin(admin.ModelAdmin):
    list_display = ["customer", "name", "currency", "balance", "status", "created_at"]
    list_filter = ["status", "currency"]
    list_select_related = ["customer"]
    search_fields = ["customer__external_id", "customer__name", "name"]
    inlines = [WalletTransactionInline]
    actions = ["top_up_wallets"]

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = type("BoundCreateWalletForm", (CreateWalletForm,), {"actor": Actor.operator(request.user)})
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request, obj=None):
        return ["customer", "name", "currency", "granted_credits"] if obj is None else ["customer", "name", "currency", "balance", "status", "created_at"]

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else ["customer", "currency", "balance", "status", "created_at"]

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []

    def save_model(self, request, obj, form, change):
        if change:  # only the name is editable; the balance moves through the services
            obj.save(update_fields=["name", "updated_at"])

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="Balance", ordering="balance_cents")
    def balance(self, obj):
        return format_amount(obj.balance_cents, obj.currency)

    @admin.action(permissions=["change"], description="Top up selected wallets…")
    def top_up_wallets(self, request, queryset):
        wallets = list(queryset.select_related("customer"))
        form = TopUpForm(request.POST if request.POST.get("post") == "yes" else None)
        if form.is_bound and form.is_valid():
            done = 0
            for wallet in wallets:
                try:
                    paid = major_to_cents(form.cleaned_data["paid_credits"], wallet.currency) if form.cleaned_data["paid_credits"] else 0
                    granted = major_to_cents(form.cleaned_data["granted_credits"], wallet.currency) if form.cleaned_data["granted_credits"] else 0
                    top_up(wallet.pk, Actor.operator(request.user), paid_cents=paid, granted_cents=granted)
                    done += 1
                except ValidationError as err:
                    self.message_user(request, f"{wallet}: {' '.join(err.messages)}", messages.ERROR)
            if done:
                self.message_user(request, f"Topped up {done} wallet(s).", messages.SUCCESS)
            return None
        return TemplateResponse(request, "admin/wallets/top_up.html", {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Top up wallets",
            "form": form,
            "wallets": wallets,
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
        })


@admin.register(WalletTransaction)
class WalletTransactionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["created_at", "wallet", "transaction_type", "transaction_status", "status", "amount", "invoice"]
    list_filter = ["transaction_type", "transaction_status", "status"]
    list_select_related = ["wallet__customer", "invoice"]
    search_fields = ["wallet__customer__external_id", "invoice__number"]
    actions = ["mark_paid"]

    @admin.display(description="Amount", ordering="amount_cents")
    def amount(self, obj):
        return format_amount(obj.amount_cents, obj.wallet.currency)

    @admin.action(permissions=["view"], description="Mark the selected purchased top-ups as paid (credits the wallets)")
    def mark_paid(self, request, queryset):
        if not request.user.has_perm("wallets.change_wallet"):
            self.message_user(request, "You may not change wallets.", messages.ERROR)
            return
        done = 0
        for tx in queryset.filter(status=WalletTransaction.Status.PENDING, transaction_status=WalletTransaction.TransactionStatus.PURCHASED):
            try:
                mark_top_up_paid(tx.invoice_id, Actor.operator(request.user))
                done += 1
            except ValidationError as err:
                self.message_user(request, f"{tx}: {' '.join(err.messages)}", messages.WARNING)
        self.message_user(request, f"{done} top-up(s) marked paid.", messages.SUCCESS if done else messages.WARNING)

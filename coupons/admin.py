"""Coupons in the admin: the catalogue, and coupons applied to customers (through the service only)."""
from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Count

from audit.actors import Actor
from core.money import format_amount

from .models import AppliedCoupon, Coupon
from .services import apply_coupon, describe, terminate


@admin.register(Coupon)
class CouponAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "coupon_type", "value", "frequency", "expiration_at", "reusable", "applications_count"]
    list_filter = ["coupon_type", "frequency", "expiration", "reusable"]
    search_fields = ["code", "name"]
    fieldsets = [
        (None, {"fields": ["code", "name", "description"]}),
        ("Value", {"fields": ["coupon_type", "amount_cents", "amount_currency", "percentage_rate"],
                   "description": "Fixed amount in minor units of its currency (1250 = 12.50 USD), or a percentage."}),
        ("Duration", {"fields": ["frequency", "frequency_duration", "expiration", "expiration_at", "reusable"]}),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(applications_total=Count("applications"))

    @admin.display(description="Value")
    def value(self, obj):
        if obj.coupon_type == Coupon.CouponType.FIXED_AMOUNT:
            return format_amount(obj.amount_cents, obj.amount_currency) if obj.amount_cents else "—"
        return f"{obj.percentage_rate.normalize()} %" if obj.percentage_rate is not None else "—"

    @admin.display(description="Applied", ordering="applications_total")
    def applications_count(self, obj):
        return obj.applications_total


class ApplyCouponForm(forms.ModelForm):
    """Adding an applied coupon goes through `apply_coupon` (expiry, reusability, audit): the form only collects input."""

    actor = None

    class Meta:
        model = AppliedCoupon
        fields = ["customer", "coupon", "amount_cents", "amount_currency", "percentage_rate", "frequency", "frequency_duration"]
        help_texts = {
            "amount_cents": "Override of a fixed coupon's amount, in minor units. Empty: the coupon's.",
            "percentage_rate": "Override of a percentage coupon's rate. Empty: the coupon's.",
            "frequency": "Empty: the coupon's.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["frequency"].required = False

    def _post_clean(self):
        if self.errors:
            return
        data = self.cleaned_data
        try:
            self.instance = apply_coupon(
                data["customer"], data["coupon"], self.actor, amount_cents=data.get("amount_cents"),
                amount_currency=data.get("amount_currency") or None, percentage_rate=data.get("percentage_rate"),
                frequency=data.get("frequency") or None, frequency_duration=data.get("frequency_duration"),
            )
        except ValidationError as err:
            self._update_errors(err)


@admin.register(AppliedCoupon)
class AppliedCouponAdmin(admin.ModelAdmin):
    list_display = ["coupon", "customer", "terms", "status", "created_at"]
    list_filter = ["status", "frequency"]
    list_select_related = ["coupon", "customer"]
    search_fields = ["coupon__code", "customer__external_id", "customer__name"]
    autocomplete_fields = ["coupon"]
    actions = ["terminate_selected"]

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            form = type("BoundApplyCouponForm", (ApplyCouponForm,), {"actor": Actor.operator(request.user)})
            kwargs["form"] = form
        return super().get_form(request, obj, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return ["customer", "coupon", "terms", "amount_cents", "amount_currency", "percentage_rate", "frequency",
                "frequency_duration", "frequency_duration_remaining", "status", "terminated_at", "created_at"]

    def get_fields(self, request, obj=None):
        if obj is None:
            return ApplyCouponForm.Meta.fields
        return self.get_readonly_fields(request, obj)

    def save_model(self, request, obj, form, change):
        """Adding: `apply_coupon` already saved it (see the form). Nothing here changes an applied coupon."""

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="Terms")
    def terms(self, obj):
        return describe(obj)

    @admin.action(permissions=["change"], description="Terminate selected applied coupons")
    def terminate_selected(self, request, queryset):
        for applied in queryset:
            terminate(applied.pk, Actor.operator(request.user))
        self.message_user(request, f"Terminated {queryset.count()} applied coupon(s).", messages.SUCCESS)


class AppliedCouponInline(admin.TabularInline):
    """Read-only list of a customer's applied coupons, for CustomerAdmin.inlines (apply new ones from Applied coupons)."""

    model = AppliedCoupon
    fields = ["coupon", "terms", "status", "created_at"]
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = True

    @admin.display(description="Terms")
    def terms(self, obj):
        return describe(obj)

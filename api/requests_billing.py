"""Request bodies of issue 10's taxes, wallets, wallet transactions and fees (the pattern of api/requests.py).

Credits (paid_credits, granted_credits, voided_credits) are decimal strings or numbers, in credits: with our
fixed rate_amount of 1, a credit is one unit of the wallet's currency ("10.5" USD = 1050 cents).
"""
from pydantic import Field

from .requests import Body, _documented, _enum
from .types import IsoDatetime, LagoBool, LagoDecimal, LagoInt, LagoList, LagoStr


class TaxFields(Body):
    name: LagoStr = None
    code: LagoStr = None
    rate: LagoDecimal = Field(None, description="percent, e.g. \"20\" or 20.0 (a string in Lago's spec, a number from the Python client)")
    description: LagoStr | None = None
    applied_to_organization: LagoBool = Field(None, description="accepted, ignored (deprecated in Lago): use billing_entities' tax_codes")


class TaxCreateFields(TaxFields):
    documented_required = ("name", "code", "rate")


CREDITS = {"pattern": "^[0-9]+.?[0-9]*$", "description": "credits (1 credit = 1 unit of the wallet's currency)"}


class WalletFields(Body):
    documented_required = ("rate_amount", "currency", "external_customer_id")
    external_customer_id: LagoStr = None
    rate_amount: LagoDecimal = _documented(description="the value of one credit in the currency: only 1 is supported")
    currency: LagoStr = None
    name: LagoStr | None = None
    paid_credits: LagoDecimal | None = _documented(**CREDITS)
    granted_credits: LagoDecimal | None = _documented(**CREDITS)
    expiration_at: IsoDatetime | None = Field(None, description="not supported: only null is accepted")
    recurring_transaction_rules: LagoList | None = Field(None, description="not supported: only null or [] is accepted")
    invoice_requires_successful_payment: LagoBool | None = Field(
        None, description="paid credits always wait for the credit invoice's payment: false is refused")
    priority: LagoInt | None = Field(None, description="accepted, ignored")
    code: LagoStr | None = Field(None, description="accepted, ignored")


class WalletUpdateFields(Body):
    name: LagoStr | None = None
    expiration_at: IsoDatetime | None = Field(None, description="not supported: only null is accepted")
    recurring_transaction_rules: LagoList | None = Field(None, description="not supported: only null or [] is accepted")
    priority: LagoInt | None = Field(None, description="accepted, ignored")
    code: LagoStr | None = Field(None, description="accepted, ignored")


class WalletTransactionFields(Body):
    documented_required = ("wallet_id",)
    wallet_id: LagoStr = None
    paid_credits: LagoDecimal | None = _documented(**CREDITS)
    granted_credits: LagoDecimal | None = _documented(**CREDITS)
    voided_credits: LagoDecimal | None = _documented(**CREDITS)
    name: LagoStr | None = Field(None, description="accepted, not stored")
    metadata: LagoList | None = Field(None, description="accepted, not stored")


class FeeUpdateFields(Body):
    documented_required = ("payment_status",)
    payment_status: LagoStr = _enum("pending", "succeeded", "failed", "refunded")


BODIES = {
    "TaxCreateInput": ("tax", TaxCreateFields),
    "TaxUpdateInput": ("tax", TaxFields),
    "WalletCreateInput": ("wallet", WalletFields),
    "WalletUpdateInput": ("wallet", WalletUpdateFields),
    "WalletTransactionCreateInput": ("wallet_transaction", WalletTransactionFields),
    "FeeUpdateInput": ("fee", FeeUpdateFields),
}
MODELS = list(dict.fromkeys(model for _, model in BODIES.values()))

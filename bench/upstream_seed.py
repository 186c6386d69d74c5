"""Build a standalone console's state fast, through its ORM: the upstream of upstream-mode tests and benches.

    DATABASE_URL=… python bench/upstream_seed.py --invoices 1000 [--drafts 100] [--grace-days 0] [--prefix s1]

Bulk-creates one billing entity (if none is named `upstream`), customers, and invoices with one add-on
fee and one tax each: `--drafts` of them drafts, the others finalized. Prints the ids of the drafts, one a line.
Acceptable only for building an upstream's state: these rows skip the finalization path on purpose.
"""
import argparse
import os
import sys
import uuid
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "billing_console.settings")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--invoices", type=int, default=1000)
    parser.add_argument("--drafts", type=int, default=0)
    parser.add_argument("--customers", type=int, default=20)
    parser.add_argument("--grace-days", type=int, default=3)
    parser.add_argument("--prefix", default="s")
    args = parser.parse_args()

    import django
    django.setup()
    from django.db import transaction
    from django.utils import timezone

    from customers.models import BillingEntity, Customer
    from invoices.models import Fee, FeeTax, Invoice, InvoiceTax

    now = timezone.now()
    with transaction.atomic():
        entity = BillingEntity.objects.filter(is_default=True).first()
        customers = []
        for n in range(args.customers):
            customer = Customer(billing_entity=entity, external_id=f"{args.prefix}-cust-{n}", name=f"Customer {n}",
                                currency="USD", invoice_grace_period=args.grace_days)
            customer.save()
            customers.append(customer)
        invoices, fees, fee_taxes, invoice_taxes, drafts = [], [], [], [], []
        for n in range(args.invoices):
            customer = customers[n % len(customers)]
            draft = n < args.drafts
            amount, tax = 10000 + n, (10000 + n) // 5
            invoice = Invoice(
                id=uuid.uuid4(), billing_entity=entity, customer=customer, status="draft" if draft else "finalized",
                payment_status="pending", currency="USD", number=f"{entity.document_number_prefix}-DRAFT" if draft else f"{args.prefix.upper()}-{n:06d}",
                sequential_id=None if draft else n + 1, issuing_date=(now - timedelta(days=5)).date(),
                payment_due_date=(now - timedelta(days=5)).date(), grace_period_ends_at=now - timedelta(days=1) if draft else None,
                fees_amount_cents=amount, sub_total_excluding_taxes_amount_cents=amount, taxes_amount_cents=tax,
                sub_total_including_taxes_amount_cents=amount + tax, total_amount_cents=amount + tax,
                finalized_at=None if draft else now,
            )
            invoices.append(invoice)
            if draft:
                drafts.append(invoice.pk)
            fee = Fee(id=uuid.uuid4(), invoice=invoice, kind="add_on", invoice_display_name="Setup", units=1,
                      unit_amount_cents=amount, precise_unit_amount=amount, amount_cents=amount, precise_amount_cents=amount,
                      taxes_rate=20, taxes_amount_cents=tax)
            fees.append(fee)
            fee_taxes.append(FeeTax(fee=fee, tax_code="vat", tax_name="VAT", tax_rate=20, amount_cents=tax))
            invoice_taxes.append(InvoiceTax(invoice=invoice, tax_code="vat", tax_name="VAT", tax_rate=20, fees_amount_cents=amount, amount_cents=tax))
        Invoice.objects.bulk_create(invoices, batch_size=500)
        Fee.objects.bulk_create(fees, batch_size=500)
        FeeTax.objects.bulk_create(fee_taxes, batch_size=500)
        InvoiceTax.objects.bulk_create(invoice_taxes, batch_size=500)
    for pk in drafts:
        print(pk)


if __name__ == "__main__":
    main()

import pytest

from invoices.ui_status import derive_invoice_ui_status


@pytest.mark.parametrize(
    "status,payment_status,overdue,expected",
    [
        ("draft", "pending", False, "draft"),
        ("voided", "pending", False, "voided"),
        ("closed", "succeeded", False, "closed"),
        ("failed", "pending", False, "failed"),
        ("pending", "pending", False, "pending"),
        ("finalized", "succeeded", True, "paid"),
        ("finalized", "pending", True, "overdue"),
        ("finalized", "failed", False, "payment_failed"),
        ("finalized", "failed", True, "overdue"),
        ("finalized", "pending", False, "finalized"),
    ],
)
def test_derive_invoice_ui_status(status, payment_status, overdue, expected):
    assert derive_invoice_ui_status(status, payment_status, overdue) == expected

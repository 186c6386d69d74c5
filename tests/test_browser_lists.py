"""Issue 11: at 1366x768 (a common laptop) the invoice and customer lists fit the viewport: nothing is cut off
on the right (the last column's right edge is within the window, and the page does not scroll sideways)."""
import pytest

from . import factories as f

VIEWPORT = {"width": 1366, "height": 768}


@pytest.fixture
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": VIEWPORT}


def sign_in(page, live_server, operator):
    page.goto(f"{live_server.url}/admin/")
    page.fill("#id_username", operator.username)
    page.fill("#id_password", "olivia-operator-pass")
    page.click("input[type=submit]")
    page.wait_for_selector("#site-name")


def assert_fits(page, path):
    page.goto(path)
    last = page.locator("#result_list thead th").last
    box = last.bounding_box()
    assert box is not None
    right = box["x"] + box["width"]
    assert right <= VIEWPORT["width"], f"{path}: last column ends at {right}px"
    # ...and is not hidden under the filter sidebar by the results' own horizontal scroll.
    results = page.locator("#changelist .results").bounding_box()
    assert right <= results["x"] + results["width"] + 1, f"{path}: last column ends at {right}px, the results at {results}"
    assert page.evaluate("document.querySelector('#changelist .results').scrollWidth <= "
                         "document.querySelector('#changelist .results').clientWidth + 1")
    for cell in page.locator("#result_list tbody tr td:last-child").all():
        cell_box = cell.bounding_box()
        assert cell_box["x"] + cell_box["width"] <= VIEWPORT["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= VIEWPORT["width"]


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_invoice_and_customer_lists_fit_1366_pixels(live_server, page, operator):
    entity = f.billing_entity(name="Northwind Trading Company")
    for n, (name, currency) in enumerate([("Acme Corporation International", "USD"), ("Globex Industrial Holdings", "EUR"),
                                          ("Sakura Kabushiki Kaisha", "JPY")]):
        customer = f.customer(entity, name=name, external_id=f"{name.split()[0].lower()}-{n}-enterprise", currency=currency,
                              timezone="America/Los_Angeles")
        for _ in range(3):
            f.invoice(customer, fees=[(1234, 98765)])
    sign_in(page, live_server, operator)
    assert_fits(page, f"{live_server.url}/admin/invoices/invoice/")
    assert_fits(page, f"{live_server.url}/admin/customers/customer/")

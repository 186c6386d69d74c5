"""The README's screenshots (the close dashboard, the draft list, an invoice page), taken from the demo data
(`seed_demo`) as an operator sees them at 1366x768.

Run on purpose to refresh docs/*.png: `pytest -m browser tests/test_readme_screenshots.py`.
"""
from pathlib import Path

import pytest
from django.core.management import call_command

from invoices.models import Invoice

DOCS = Path(__file__).resolve().parent.parent / "docs"
VIEWPORT = {"width": 1366, "height": 768}


@pytest.fixture
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": VIEWPORT}


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_readme_screenshots_from_the_demo_data(live_server, page, operator):
    call_command("seed_demo")
    draft = Invoice.objects.drafts().exclude(fees=None).order_by("created_at").first()
    assert draft is not None, "the demo data has drafts with fees"

    page.goto(f"{live_server.url}/admin/")
    page.fill("#id_username", operator.username)
    page.fill("#id_password", "olivia-operator-pass")
    page.click("input[type=submit]")
    page.wait_for_selector("#site-name")

    # The landing page: the close dashboard, down to its last panel (the app list below is left out).
    dashboard = page.locator("#close-dashboard")
    dashboard.wait_for()
    box = dashboard.bounding_box()
    page.screenshot(path=str(DOCS / "close-dashboard.png"), full_page=True,
                    clip={"x": 0, "y": 0, "width": VIEWPORT["width"], "height": box["y"] + box["height"] + 12})
    assert (DOCS / "close-dashboard.png").stat().st_size > 10_000

    page.goto(f"{live_server.url}/admin/invoices/invoice/?status=draft")
    page.wait_for_selector("#currency-totals")
    page.screenshot(path=str(DOCS / "draft-list.png"))
    assert (DOCS / "draft-list.png").stat().st_size > 10_000

    page.goto(f"{live_server.url}/admin/invoices/invoice/{draft.pk}/change/")
    page.wait_for_selector(".invoice-summary")
    page.screenshot(path=str(DOCS / "invoice-page.png"), full_page=True)
    assert (DOCS / "invoice-page.png").stat().st_size > 10_000

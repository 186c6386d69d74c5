import os

import pytest
from django.conf import settings

# Playwright's sync API runs an event loop in the test thread; the ORM calls in browser tests are safe there.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def pytest_collection_modifyitems(config, items):
    if getattr(settings, "USING_POSTGRES", False):
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL (row locks, SKIP LOCKED); no server was reachable, running on SQLite")
    for item in items:
        if "postgres_only" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def actor():
    from audit.actors import Actor

    return Actor.system(source="command")


@pytest.fixture(scope="session")
def browser_type_launch_args():
    return {
        "executable_path": "/usr/bin/chromium",
        "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"],
    }

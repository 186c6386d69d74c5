import pytest
from django.conf import settings

# The API tests' fixtures (api_key, api): an API key and a JSON client that sends it.
pytest_plugins = ["tests.api_support"]


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

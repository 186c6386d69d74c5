import os

import pytest
from django.conf import settings

# Playwright's sync API runs an event loop in the test thread; Django's ORM must still be usable there.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

# The API tests' fixtures (api_key, api): an API key and a JSON client that sends it.
pytest_plugins = ["tests.api_support"]


def pytest_collection_modifyitems(config, items):
    """Deselected, never skipped (a run shows no skips to explain): on SQLite the PostgreSQL-only tests
    (row locks, SKIP LOCKED races, triggers); without LAGO_OPENAPI the tests that judge our answers by
    Lago's own OpenAPI document (tests/lago_spec.py), which is not part of the project."""
    unwanted = set()
    if not getattr(settings, "USING_POSTGRES", False):
        unwanted.add("postgres_only")
    if not os.environ.get("LAGO_OPENAPI"):
        unwanted.add("lago_spec")
    deselected = [item for item in items if unwanted & set(item.keywords)]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = [item for item in items if not unwanted & set(item.keywords)]


@pytest.fixture(autouse=True)
def upstream_settings_cache():
    """upstream.config caches the admin's UpstreamSettings row per process; every test starts, and leaves, with none
    stored (each test's database rows are rolled back or flushed, and a signal would not say so)."""
    from upstream import config

    config.forget(stored={})
    yield
    config.forget(stored={})


@pytest.fixture
def actor():
    from audit.actors import Actor

    return Actor.system(source="command")


# --- personas: the console's roles (accounts/roles.py) ------------------------------------------


@pytest.fixture
def roles(db):
    """The groups of the data migration; re-synced because transactional tests flush them away."""
    from accounts.roles import ensure_groups

    return ensure_groups()


def _persona(django_user_model, username, group=None, **flags):
    user = django_user_model.objects.create_user(username=username, password=f"{username}-pass", is_staff=True, **flags)
    if group is not None:
        user.groups.add(group)
    return user


@pytest.fixture
def operator(roles, django_user_model):
    """A billing operator: reviews drafts, edits their fees, finalizes."""
    from accounts.roles import BILLING_OPERATORS

    return _persona(django_user_model, "olivia-operator", roles[BILLING_OPERATORS])


@pytest.fixture
def auditor(roles, django_user_model):
    """An auditor: reads invoices and the audit log, exports it, changes nothing."""
    from accounts.roles import AUDITORS

    return _persona(django_user_model, "arthur-auditor", roles[AUDITORS])


@pytest.fixture
def outsider(db, django_user_model):
    """Staff who may sign in to the admin but has no billing permission at all."""
    return _persona(django_user_model, "oscar-outsider")


@pytest.fixture
def operator_client(client, operator):
    client.force_login(operator)
    return client


@pytest.fixture
def auditor_client(client, auditor):
    client.force_login(auditor)
    return client


@pytest.fixture(scope="session")
def browser_type_launch_args():
    return {
        "executable_path": "/usr/bin/chromium",
        "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"],
    }

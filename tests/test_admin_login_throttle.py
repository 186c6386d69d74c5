"""Admin sign-in is throttled by django-axes, on by default: after AXES_FAILURE_LIMIT wrong passwords
the (username, IP) pair is locked, and so is an IP that tried several usernames; the lockout page
says how long to wait (429); the lock lifts after the cool-off or with `manage.py axes_reset`."""
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

LOGIN = "/admin/login/"
LOCKED = "Too many failed sign-in attempts. Try again in 15 minutes."


@pytest.fixture
def staff(db, django_user_model):
    return django_user_model.objects.create_user(username="olga", password="right-horse-battery", is_staff=True)


def sign_in(username, password, ip="203.0.113.7"):
    client = Client(REMOTE_ADDR=ip)
    response = client.post(LOGIN, {"username": username, "password": password, "next": "/admin/"})
    return response, client


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def fail(times, username="olga", ip="203.0.113.7"):
    """Wrong passwords: the login form again (Django's error), until the failure that reaches the limit,
    which is answered with the lockout page already."""
    for _ in range(times):
        response, _ = sign_in(username, "wrong", ip)
        from_ip = AccessAttempt.objects.filter(ip_address=ip)
        limit_reached = settings.AXES_FAILURE_LIMIT <= max(
            from_ip.get(username=username).failures_since_start, sum(a.failures_since_start for a in from_ip))
        assert response.status_code == (429 if limit_reached else 200)
    return response


def test_throttling_is_on_by_default():
    assert settings.AXES_ENABLED is True
    assert settings.AXES_FAILURE_LIMIT == 5 and settings.AXES_COOLOFF_TIME == timedelta(minutes=15)
    assert settings.AUTHENTICATION_BACKENDS[0] == "axes.backends.AxesStandaloneBackend"
    assert settings.MIDDLEWARE[-1] == "axes.middleware.AxesMiddleware"


def test_the_right_password_signs_in_below_the_limit(staff):
    fail(settings.AXES_FAILURE_LIMIT - 1)
    response, client = sign_in("olga", "right-horse-battery")
    assert response.status_code == 302 and signed_in(client)
    # A success resets the count (AXES_RESET_ON_SUCCESS).
    assert not AccessAttempt.objects.filter(username="olga").exists()


def test_after_the_limit_even_the_right_password_is_refused_until_the_cool_off_passes(staff):
    fail(settings.AXES_FAILURE_LIMIT)
    response, client = sign_in("olga", "right-horse-battery")
    assert response.status_code == 429 and not signed_in(client)
    assert LOCKED in response.content.decode()
    assert "axes_reset" in response.content.decode()

    # Still locked just before the cool-off ends …
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=14))
    assert sign_in("olga", "right-horse-battery")[0].status_code == 429
    # … and free after it.
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))
    response, client = sign_in("olga", "right-horse-battery")
    assert response.status_code == 302 and signed_in(client)


def test_the_lockout_page_follows_the_settings(staff, settings):
    settings.AXES_FAILURE_LIMIT = 2
    settings.AXES_COOLOFF_TIME = timedelta(minutes=1)
    fail(2)
    response, _ = sign_in("olga", "right-horse-battery")
    assert response.status_code == 429
    assert "Too many failed sign-in attempts. Try again in 1 minute." in response.content.decode()


def test_an_ip_trying_many_usernames_is_locked_for_all_of_them(staff):
    for name in ["admin", "root", "operator", "billing", "olga-typo"][: settings.AXES_FAILURE_LIMIT]:
        fail(1, username=name, ip="198.51.100.9")
    response, client = sign_in("olga", "right-horse-battery", ip="198.51.100.9")
    assert response.status_code == 429 and not signed_in(client) and LOCKED in response.content.decode()
    # Another address is not locked.
    response, client = sign_in("olga", "right-horse-battery", ip="198.51.100.10")
    assert response.status_code == 302 and signed_in(client)


def test_a_locked_user_ip_pair_does_not_lock_the_user_elsewhere(staff):
    fail(settings.AXES_FAILURE_LIMIT, ip="203.0.113.7")
    assert sign_in("olga", "right-horse-battery", ip="203.0.113.7")[0].status_code == 429
    response, client = sign_in("olga", "right-horse-battery", ip="203.0.113.99")
    assert response.status_code == 302 and signed_in(client)


def test_axes_reset_lifts_the_lock(staff):
    fail(settings.AXES_FAILURE_LIMIT)
    assert sign_in("olga", "right-horse-battery")[0].status_code == 429
    call_command("axes_reset")
    response, client = sign_in("olga", "right-horse-battery")
    assert response.status_code == 302 and signed_in(client)


def test_force_login_still_works(client, staff):
    client.force_login(staff)
    assert client.get("/admin/").status_code == 200

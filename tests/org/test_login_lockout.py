"""Brute force: after too many wrong passwords an account is locked for a while, even for
the right password, and the lock lifts by itself."""

from datetime import timedelta

import time_machine
from django.urls import reverse
from django.utils import timezone

WRONG = {"username": "rep_east1", "password": "guess"}
RIGHT = {"username": "rep_east1", "password": "tuoke-demo"}


def test_it_locks_an_account_after_too_many_wrong_passwords(client, people, settings):
    settings.LOGIN_MAX_FAILURES = 3
    settings.LOGIN_LOCKOUT_SECONDS = 600
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        for _ in range(3):
            page = client.post(reverse("login"), WRONG).content.decode()
            assert "The username or password is wrong" in page
        page = client.post(reverse("login"), RIGHT).content.decode()
        assert "Too many wrong passwords for this account. Wait 10 minutes" in page
        assert "_auth_user_id" not in client.session
        # Another account is not affected.
        assert client.post(reverse("login"), {**RIGHT, "username": "rep_east2"}).status_code == 302
        client.logout()

        clock.shift(timedelta(seconds=601))
        assert client.post(reverse("login"), RIGHT).status_code == 302


def test_it_forgets_failures_after_a_successful_login(client, people, settings):
    settings.LOGIN_MAX_FAILURES = 3
    for _ in range(2):
        client.post(reverse("login"), WRONG)
    assert client.post(reverse("login"), RIGHT).status_code == 302
    client.logout()
    for _ in range(2):
        client.post(reverse("login"), WRONG)
    assert client.post(reverse("login"), RIGHT).status_code == 302


def test_it_matches_the_username_whatever_its_case(client, people, settings):
    settings.LOGIN_MAX_FAILURES = 2
    client.post(reverse("login"), {**WRONG, "username": "REP_EAST1"})
    client.post(reverse("login"), WRONG)
    assert "Too many wrong passwords" in client.post(reverse("login"), RIGHT).content.decode()

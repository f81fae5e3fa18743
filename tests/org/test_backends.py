"""Each request reads its user through ``tuoke.org.backends``: kept by the process under the
directory's fingerprint, so a new password or a deactivation ends the user's other sessions
at once, and each request gets its own copy of him."""

from django.urls import reverse
from django.utils import timezone

from tuoke.core import directory
from tuoke.org import services
from tuoke.org.backends import UserBackend

NEW_PASSWORD = "Hai-Tang-2026!"


def test_a_new_password_ends_the_other_sessions_at_once(people, login):
    rep = people["rep_east1"]
    here, elsewhere = login(rep), login(rep)
    assert elsewhere.get("/").status_code == 200  # its user is kept now

    response = here.post(
        reverse("password_change"),
        {
            "old_password": "tuoke-demo",
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
    )

    assert response.status_code == 302
    assert here.get("/").status_code == 200  # the session that changed it goes on
    response = elsewhere.get("/")
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_a_deactivated_user_is_logged_out_at_once(people, login):
    rep = people["rep_east1"]
    client = login(rep)
    assert client.get("/").status_code == 200

    services.deactivate_user(rep, by=people["admin"])

    response = client.get("/")
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_a_field_saved_alone_moves_the_fingerprint_but_a_login_does_not(people):
    rep = people["rep_east1"]
    before = directory.version()
    rep.last_login = timezone.now()
    rep.save(update_fields=["last_login"])
    assert directory.version() == before
    rep.set_password(NEW_PASSWORD)
    rep.save(update_fields=["password"])
    moved = directory.version()
    assert moved != before
    rep.email = "zw@example.com"
    rep.save(update_fields=["email"])
    assert directory.version() != moved


def test_each_request_gets_its_own_copy_of_its_user(people, django_assert_num_queries):
    rep = people["rep_east1"]
    backend = UserBackend()
    first = backend.get_user(rep.pk)
    first.display_name = "改过的名字"
    first._tuoke_grants = {}

    with django_assert_num_queries(1):  # the fingerprint; the user is kept
        second = backend.get_user(rep.pk)

    assert second is not first
    assert second.display_name == rep.display_name
    assert not hasattr(second, "_tuoke_grants")
    assert second.unit == rep.unit


def test_an_unknown_user_is_none(people):
    assert UserBackend().get_user(987654) is None

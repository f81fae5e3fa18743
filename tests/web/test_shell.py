"""The shell's own pages: home per role, search within scope, account and tokens, error pages."""

import pytest
from django.urls import reverse

from tuoke.org.models import ApiToken


def test_it_sends_anonymous_visitors_to_the_login_page(client, db):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_it_shows_a_friendly_404_page(login, people):
    response = login(people["rep_east1"]).get("/no-such-page/")
    assert response.status_code == 404
    assert "This page does not exist" in response.content.decode()


def test_it_renders_the_friendly_500_page(rf, db):
    from tuoke.web.views import error_500

    response = error_500(rf.get("/"))
    assert response.status_code == 500
    assert "Tuoke" in response.content.decode()


def test_it_shows_the_organisation_card_only_to_administrators(login, people):
    admin_page = login(people["admin"]).get("/").content.decode()
    rep_page = login(people["rep_east1"]).get("/").content.decode()
    assert 'data-testid="org-stats"' in admin_page
    assert 'data-testid="org-stats"' not in rep_page


def test_it_lists_only_colleagues_within_the_scope_on_home(login, people):
    page = login(people["rep_east1"]).get("/").content.decode()
    assert "刘洋" in page  # same unit
    assert "黄敏" not in page  # 华南销售组


def test_it_searches_only_within_the_scope(login, people):
    client = login(people["rep_east1"])
    assert "刘洋" in client.get("/search/", {"q": "刘"}).content.decode()
    assert "黄敏" not in client.get("/search/", {"q": "黄"}).content.decode()
    boss_client = login(people["boss"])
    assert "黄敏" in boss_client.get("/search/", {"q": "黄"}).content.decode()


def test_it_creates_shows_once_and_revokes_a_token_on_the_account_page(login, people):
    rep = people["rep_east1"]
    client = login(rep)
    client.post(reverse("token_create"), {"name": "ERP sync"})
    page = client.get(reverse("account")).content.decode()
    token = ApiToken.objects.get(user=rep)
    assert 'data-testid="new-token"' in page
    assert token.prefix in page
    # Shown once only.
    assert 'data-testid="new-token"' not in client.get(reverse("account")).content.decode()
    client.post(reverse("token_revoke", args=[token.pk]))
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_it_refuses_a_token_without_a_name(login, people):
    client = login(people["rep_east1"])
    response = client.post(reverse("token_create"), {"name": "  "}, follow=True)
    assert "Give the token a name" in response.content.decode()
    assert not ApiToken.objects.exists()


@pytest.mark.parametrize("username", ["rep_east1", "admin"])
def test_it_saves_the_profile_and_the_language(login, people, username):
    user = people[username]
    client = login(user)
    response = client.post(
        reverse("account"),
        {"display_name": "新名字", "email": "new@example.com", "mobile": "", "language": "zh-hans"},
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert (user.display_name, user.language) == ("新名字", "zh-hans")


def test_it_changes_the_password_audited_and_keeps_the_session(login, people):
    from tuoke.core.audit import trail_of

    rep = people["rep_east1"]
    client = login(rep)
    response = client.post(
        reverse("password_change"),
        {
            "old_password": "tuoke-demo",
            "new_password1": "Hai-Tang-2026!",
            "new_password2": "Hai-Tang-2026!",
        },
    )
    assert response.status_code == 302
    rep.refresh_from_db()
    assert rep.check_password("Hai-Tang-2026!")
    assert client.get("/").status_code == 200
    assert trail_of(rep).first().note == "password changed"


def test_it_refuses_a_wrong_old_password_with_a_field_message(login, people):
    client = login(people["rep_east1"])
    response = client.post(
        reverse("password_change"),
        {
            "old_password": "nope",
            "new_password1": "Hai-Tang-2026!",
            "new_password2": "Hai-Tang-2026!",
        },
    )
    assert response.status_code == 200
    assert 'data-field-error="old_password"' in response.content.decode()

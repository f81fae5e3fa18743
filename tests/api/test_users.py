"""/users: read within the data scope; invite, change, (de)activate by those allowed."""

import pytest
from django.core import mail

from tuoke.core.models import AuditEntry
from tuoke.org.models import OrgUnit, Role, User

from .conftest import assert_error


@pytest.fixture
def east(people):
    return OrgUnit.objects.get(name="华东销售组")


def test_it_lists_only_the_users_in_scope(api_as, rep_east, manager_east, director, boss):
    names = {u["username"] for u in api_as(rep_east).get("/users").json()["items"]}
    assert names == {"manager_east", "rep_east1", "rep_east2"}
    names = {u["username"] for u in api_as(director).get("/users").json()["items"]}
    assert names == {
        "director", "manager_east", "manager_south", "rep_east1", "rep_east2",
        "rep_south1", "rep_south2",
    }  # fmt: skip
    assert api_as(boss).get("/users").json()["count"] == 12


def test_it_filters_searches_and_sorts(api_as, boss, admin_user, rep_south, east):
    api = api_as(boss)
    body = api.get("/users", {"unit": east.pk, "sort": "-username"}).json()
    assert [u["username"] for u in body["items"]] == ["rep_east2", "rep_east1", "manager_east"]
    assert [u["username"] for u in api.get("/users", {"q": "黄敏"}).json()["items"]] == [
        "rep_south1"
    ]
    assert api.get("/users", {"q": "SOUTH1@demo"}).json()["count"] == 1
    api_as(admin_user).post(f"/users/{rep_south.pk}/deactivate")
    inactive = api.get("/users", {"is_active": "false"}).json()["items"]
    assert [u["username"] for u in inactive] == ["rep_south1"]
    assert api.get("/users", {"is_active": "true"}).json()["count"] == 11


def test_it_shows_a_user_in_scope(api_as, rep_east, rep_east2):
    body = api_as(rep_east).get(f"/users/{rep_east2.pk}").json()
    assert body["username"] == "rep_east2"
    assert body["unit"]["name"] == "华东销售组"
    assert body["roles"][0]["name"] == "销售代表"
    assert body["version"] >= 1


def test_it_hides_a_user_outside_the_scope(api_as, token_api, rep_east, rep_south):
    assert_error(api_as(rep_east).get(f"/users/{rep_south.pk}"), 404)
    assert_error(token_api(rep_east).get(f"/users/{rep_south.pk}"), 404)


def test_it_invites_a_user(api_as, admin_user, east, django_capture_on_commit_callbacks):
    role = Role.objects.get(name="销售代表")
    payload = {
        "username": "rep_east3",
        "display_name": "钱进",
        "email": "qian@example.com",
        "title": "销售代表",
        "unit_id": east.pk,
        "role_ids": [role.pk],
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = api_as(admin_user).post("/users", payload)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["unit"] == {"id": east.pk, "name": "华东销售组"}
    assert body["roles"] == [{"id": role.pk, "name": "销售代表"}]
    user = User.objects.get(username="rep_east3")
    assert not user.has_usable_password()
    assert AuditEntry.objects.filter(
        object_id=user.pk, kind=AuditEntry.Kind.CREATE, actor=admin_user
    ).exists()
    assert len(mail.outbox) == 1
    assert "http://testserver/password/set/" in mail.outbox[0].body


def test_it_refuses_to_invite_without_the_grant(api_as, rep_east, manager_east):
    assert_error(api_as(rep_east).post("/users", {"username": "x", "display_name": "x"}), 403)
    assert_error(api_as(manager_east).post("/users", {"username": "x", "display_name": "x"}), 403)
    assert not User.objects.filter(username="x").exists()


def test_it_changes_a_user(api_as, admin_user, rep_east):
    south = OrgUnit.objects.get(name="华南销售组")
    manager_role = Role.objects.get(name="销售经理")
    payload = {
        "version": rep_east.version,
        "title": "高级销售代表",
        "unit_id": south.pk,
        "role_ids": [manager_role.pk],
    }
    response = api_as(admin_user).patch(f"/users/{rep_east.pk}", payload)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["title"] == "高级销售代表"
    assert body["unit"]["name"] == "华南销售组"
    assert [r["name"] for r in body["roles"]] == ["销售经理"]
    assert body["version"] == rep_east.version + 1
    rep_east.refresh_from_db()
    assert rep_east.display_name == "张伟"  # fields not sent stay as they were
    entry = AuditEntry.objects.filter(object_id=rep_east.pk, kind=AuditEntry.Kind.UPDATE).first()
    assert entry.actor == admin_user
    assert {c["field"] for c in entry.changes} >= {"title", "unit", "roles"}


def test_it_refuses_a_stale_change_of_a_user(api_as, admin_user, rep_east):
    api = api_as(admin_user)
    version = rep_east.version
    assert api.patch(f"/users/{rep_east.pk}", {"version": version, "title": "A"}).status_code == 200
    assert_error(api.patch(f"/users/{rep_east.pk}", {"version": version, "title": "B"}), 409)
    rep_east.refresh_from_db()
    assert rep_east.title == "A"


def test_it_needs_the_version_to_change_a_user(api_as, admin_user, rep_east):
    assert_error(api_as(admin_user).patch(f"/users/{rep_east.pk}", {"title": "A"}), 400, "version")


def test_it_refuses_changes_without_the_grant(api_as, rep_east, rep_east2, rep_south):
    api = api_as(rep_east)
    assert_error(api.patch(f"/users/{rep_east2.pk}", {"version": 1, "title": "x"}), 403)
    assert_error(api.patch(f"/users/{rep_south.pk}", {"version": 1, "title": "x"}), 404)
    assert_error(api.post(f"/users/{rep_east2.pk}/deactivate"), 403)
    assert_error(api.post(f"/users/{rep_south.pk}/deactivate"), 404)


def test_it_deactivates_and_reactivates_a_user(api_as, admin_user, rep_east):
    api = api_as(admin_user)
    response = api.post(f"/users/{rep_east.pk}/deactivate")
    assert response.status_code == 200, response.content
    assert response.json()["is_active"] is False
    response = api.post(f"/users/{rep_east.pk}/reactivate")
    assert response.json()["is_active"] is True
    kinds = AuditEntry.objects.filter(object_id=rep_east.pk, actor=admin_user).count()
    assert kinds == 2


def test_it_refuses_to_deactivate_oneself(api_as, admin_user):
    assert_error(api_as(admin_user).post(f"/users/{admin_user.pk}/deactivate"), 400, "is_active")

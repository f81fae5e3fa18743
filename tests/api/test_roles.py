"""/roles: read (a narrow scope shows the roles one holds); create, change, delete by admins."""

from tuoke.core.models import AuditEntry
from tuoke.core.scope import scope_of
from tuoke.org.models import Role, RoleGrant

from .conftest import assert_error


def test_it_lists_the_roles_in_scope(api_as, rep_east, manager_east):
    assert [r["name"] for r in api_as(rep_east).get("/roles").json()["items"]] == ["销售代表"]
    assert api_as(manager_east).get("/roles").json()["count"] == 8


def test_it_shows_a_role_with_its_grants(api_as, manager_east):
    role = Role.objects.get(name="销售代表")
    body = api_as(manager_east).get(f"/roles/{role.pk}").json()
    assert body["name"] == "销售代表"
    assert {"record_type": "user", "action": "view", "scope": "unit"} in body["grants"]


def test_it_hides_a_role_outside_the_scope(api_as, rep_east):
    role = Role.objects.get(name="系统管理员")
    assert_error(api_as(rep_east).get(f"/roles/{role.pk}"), 404)


def test_it_creates_a_role(api_as, admin_user):
    payload = {
        "name": "区域经理",
        "description": "管理一个区域",
        "grants": [
            {"record_type": "user", "action": "view", "scope": "subtree"},
            {"record_type": "org_unit", "action": "view", "scope": "subtree"},
        ],
    }
    response = api_as(admin_user).post("/roles", payload)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["name"] == "区域经理"
    assert len(body["grants"]) == 2
    role = Role.objects.get(pk=body["id"])
    assert RoleGrant.objects.filter(role=role).count() == 2
    assert AuditEntry.objects.filter(object_id=role.pk, kind=AuditEntry.Kind.CREATE).exists()


def test_it_refuses_a_duplicate_role_or_grant(api_as, admin_user):
    api = api_as(admin_user)
    assert_error(api.post("/roles", {"name": "销售代表"}), 400, "name", "duplicate")
    grant = {"record_type": "user", "action": "view", "scope": "all"}
    assert_error(api.post("/roles", {"name": "新角色", "grants": [grant, grant]}), 400, "grants.1")


def test_it_changes_the_grants_of_a_role(api_as, admin_user, rep_east):
    role = Role.objects.get(name="销售代表")
    payload = {
        "version": role.version,
        "grants": [{"record_type": "user", "action": "view", "scope": "all"}],
    }
    response = api_as(admin_user).patch(f"/roles/{role.pk}", payload)
    assert response.status_code == 200, response.content
    assert response.json()["grants"] == payload["grants"]
    assert response.json()["version"] == role.version + 1
    rep_east.refresh_from_db()
    assert scope_of(rep_east, "org_unit") == 0
    assert scope_of(rep_east, "user") == 4
    entry = AuditEntry.objects.filter(object_id=role.pk, kind=AuditEntry.Kind.UPDATE).first()
    assert entry.changes[0]["field"] == "grants"
    assert entry.actor == admin_user


def test_it_renames_a_role_and_refuses_a_stale_version(api_as, admin_user):
    role = Role.objects.get(name="市场专员")
    api = api_as(admin_user)
    response = api.patch(f"/roles/{role.pk}", {"version": role.version, "name": "市场经理"})
    assert response.json()["name"] == "市场经理"
    assert_error(api.patch(f"/roles/{role.pk}", {"version": role.version, "name": "X"}), 409)
    stale = {"version": role.version, "grants": []}
    assert_error(api.patch(f"/roles/{role.pk}", stale), 409)
    assert RoleGrant.objects.filter(role=role).exists()


def test_it_refuses_role_writes_without_the_grant(api_as, manager_east, rep_east):
    role = Role.objects.get(name="销售代表")
    admin_role = Role.objects.get(name="系统管理员")
    api = api_as(manager_east)
    assert_error(api.post("/roles", {"name": "x"}), 403)
    assert_error(api.patch(f"/roles/{role.pk}", {"version": 1, "name": "x"}), 403)
    assert_error(api.delete(f"/roles/{role.pk}"), 403)
    assert_error(api_as(rep_east).delete(f"/roles/{admin_role.pk}"), 404)


def test_it_deletes_a_role(api_as, admin_user):
    role = Role.objects.get(name="市场专员")
    response = api_as(admin_user).delete(f"/roles/{role.pk}")
    assert response.status_code == 204
    assert Role.all_objects.get(pk=role.pk).is_deleted
    assert AuditEntry.objects.filter(object_id=role.pk, kind=AuditEntry.Kind.DELETE).exists()
    assert_error(api_as(admin_user).get(f"/roles/{role.pk}"), 404)

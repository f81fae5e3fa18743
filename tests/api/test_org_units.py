"""/org-units: read within the data scope; create, change and delete by those allowed."""

import pytest

from tuoke.core.models import AuditEntry
from tuoke.org.models import OrgUnit

from .conftest import assert_error


@pytest.fixture
def units(people):
    return {u.name: u for u in OrgUnit.objects.all()}


def test_it_lists_the_units_in_scope_in_tree_order(api_as, rep_east, director, boss, units):
    assert [u["name"] for u in api_as(rep_east).get("/org-units").json()["items"]] == ["华东销售组"]
    names = [u["name"] for u in api_as(director).get("/org-units").json()["items"]]
    assert names == ["销售部", "华东销售组", "华南销售组"]
    body = api_as(boss).get("/org-units").json()
    assert body["count"] == 7
    east = next(u for u in body["items"] if u["name"] == "华东销售组")
    assert east["parent"] == {"id": units["销售部"].pk, "name": "销售部"}
    assert east["manager"]["username"] == "manager_east"
    assert east["depth"] == 1


def test_it_shows_a_unit_in_scope_and_hides_the_others(api_as, rep_east, units):
    api = api_as(rep_east)
    assert api.get(f"/org-units/{units['华东销售组'].pk}").json()["name"] == "华东销售组"
    assert_error(api.get(f"/org-units/{units['华南销售组'].pk}"), 404)


def test_it_creates_a_unit(api_as, admin_user, units, manager_east):
    payload = {
        "name": " 华北销售组 ",
        "parent_id": units["销售部"].pk,
        "manager_id": manager_east.pk,
    }
    response = api_as(admin_user).post("/org-units", payload)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["name"] == "华北销售组"
    assert body["parent"]["name"] == "销售部"
    assert body["manager"]["id"] == manager_east.pk
    unit = OrgUnit.objects.get(pk=body["id"])
    assert unit.path.startswith(units["销售部"].path)
    assert AuditEntry.objects.filter(
        object_id=unit.pk, kind=AuditEntry.Kind.CREATE, actor=admin_user
    ).exists()


def test_it_refuses_to_create_a_unit_without_the_grant(api_as, rep_east, boss):
    assert_error(api_as(rep_east).post("/org-units", {"name": "华北销售组"}), 403)
    assert_error(api_as(boss).post("/org-units", {"name": "华北销售组"}), 403)
    assert not OrgUnit.objects.filter(name="华北销售组").exists()


def test_it_changes_and_moves_a_unit(api_as, admin_user, units):
    east = units["华东销售组"]
    payload = {"version": east.version, "name": "华东一组", "parent_id": None, "sort_order": 3}
    response = api_as(admin_user).patch(f"/org-units/{east.pk}", payload)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["name"] == "华东一组"
    assert body["parent"] is None
    assert body["sort_order"] == 3
    assert body["version"] == east.version + 1
    assert AuditEntry.objects.filter(
        object_id=east.pk, kind=AuditEntry.Kind.UPDATE, actor=admin_user
    ).exists()


def test_it_refuses_a_cycle(api_as, admin_user, units):
    sales = units["销售部"]
    payload = {"version": sales.version, "parent_id": units["华东销售组"].pk}
    assert_error(
        api_as(admin_user).patch(f"/org-units/{sales.pk}", payload), 400, "parent", "cycle"
    )


def test_it_refuses_a_stale_change_of_a_unit(api_as, admin_user, units):
    east = units["华东销售组"]
    api = api_as(admin_user)
    assert (
        api.patch(f"/org-units/{east.pk}", {"version": east.version, "name": "A"}).status_code
        == 200
    )
    assert_error(api.patch(f"/org-units/{east.pk}", {"version": east.version, "name": "B"}), 409)


def test_it_refuses_changes_without_the_grant(api_as, rep_east, units):
    api = api_as(rep_east)
    east, south = units["华东销售组"], units["华南销售组"]
    assert_error(api.patch(f"/org-units/{east.pk}", {"version": 1, "name": "x"}), 403)
    assert_error(api.patch(f"/org-units/{south.pk}", {"version": 1, "name": "x"}), 404)
    assert_error(api.delete(f"/org-units/{east.pk}"), 403)
    assert_error(api.delete(f"/org-units/{south.pk}"), 404)


def test_it_deletes_an_empty_unit(api_as, admin_user):
    api = api_as(admin_user)
    unit_id = api.post("/org-units", {"name": "临时组"}).json()["id"]
    response = api.delete(f"/org-units/{unit_id}")
    assert response.status_code == 204
    assert OrgUnit.all_objects.get(pk=unit_id).is_deleted
    assert_error(api.get(f"/org-units/{unit_id}"), 404)
    assert AuditEntry.objects.filter(object_id=unit_id, kind=AuditEntry.Kind.DELETE).exists()


def test_it_refuses_to_delete_a_unit_with_members_or_children(api_as, admin_user, units):
    api = api_as(admin_user)
    assert_error(api.delete(f"/org-units/{units['华东销售组'].pk}"), 400, "members", "in_use")
    assert_error(api.delete(f"/org-units/{units['销售部'].pk}"), 400, "parent", "in_use")
    assert not OrgUnit.all_objects.get(pk=units["销售部"].pk).is_deleted

"""The org chart pages: the tree, a unit's page, and creating, editing and deleting units."""

from tuoke.core.models import AuditEntry
from tuoke.org import services
from tuoke.org.models import OrgUnit


def _unit(name):
    return OrgUnit.objects.get(name=name)


def test_it_shows_the_whole_tree_to_the_admin(people, login, django_assert_max_num_queries):
    client = login(people["admin"])
    with django_assert_max_num_queries(6):
        response = client.get("/org/units/")
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('data-testid="unit-row"') == OrgUnit.objects.count()
    assert "华东销售组" in html and "财务部" in html
    assert "王经理" in html  # the east group's manager
    assert 'data-testid="unit-create"' in html


def test_it_shows_a_rep_only_his_own_unit_read_only(people, login):
    response = login(people["rep_east1"]).get("/org/units/")
    html = response.content.decode()
    assert html.count('data-testid="unit-row"') == 1
    assert "华东销售组" in html
    assert "华南销售组" not in html
    assert 'data-testid="unit-create"' not in html


def test_it_counts_active_members(people, login):
    east = _unit("华东销售组")
    response = login(people["admin"]).get("/org/units/")
    html = response.content.decode()
    row = html[html.index(f'data-pk="{east.pk}"') :]
    count = row[row.index('data-testid="member-count">') + len('data-testid="member-count">') :]
    assert count.startswith("3<")


def test_it_shows_a_unit_with_members_and_history(people, login):
    east = _unit("华东销售组")
    response = login(people["manager_east"]).get(f"/org/units/{east.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "张伟" in html and "刘洋" in html
    assert 'data-testid="audit-trail"' in html
    assert 'data-testid="unit-edit"' not in html


def test_it_gives_a_rep_404_for_another_unit(people, login):
    south = _unit("华南销售组")
    client = login(people["rep_east1"])
    assert client.get(f"/org/units/{south.pk}/").status_code == 404
    assert client.get(f"/org/units/{south.pk}/edit/").status_code == 404
    assert client.post(f"/org/units/{south.pk}/delete/").status_code == 404


def test_it_refuses_a_rep_the_write_pages_of_his_own_unit(people, login):
    east = _unit("华东销售组")
    client = login(people["rep_east1"])
    assert client.get("/org/units/new/").status_code == 403
    assert client.post("/org/units/new/", {"name": "x"}).status_code == 403
    assert client.get(f"/org/units/{east.pk}/edit/").status_code == 403
    assert client.post(f"/org/units/{east.pk}/delete/").status_code == 403
    assert OrgUnit.objects.filter(pk=east.pk).exists()


def test_it_creates_a_unit_under_another(people, login):
    sales = _unit("销售部")
    response = login(people["admin"]).post(
        "/org/units/new/",
        {"name": "华北销售组", "parent": sales.pk, "manager": people["rep_east2"].pk},
    )
    unit = OrgUnit.objects.get(name="华北销售组")
    assert response.status_code == 302
    assert response["Location"] == f"/org/units/{unit.pk}/"
    assert unit.parent == sales
    assert unit.manager == people["rep_east2"]
    assert unit.path.startswith(sales.path)


def test_it_names_the_field_when_the_name_is_missing(people, login):
    response = login(people["admin"]).post("/org/units/new/", {"name": "  "})
    assert response.status_code == 200
    assert 'data-field-error="name"' in response.content.decode()


def test_it_renames_and_moves_a_unit(people, login):
    east = _unit("华东销售组")
    gm = _unit("总经办")
    response = login(people["admin"]).post(
        f"/org/units/{east.pk}/edit/",
        {"name": "华东大区", "parent": gm.pk, "manager": "", "version": east.version},
    )
    assert response.status_code == 302
    east.refresh_from_db()
    assert east.name == "华东大区"
    assert east.parent == gm
    assert east.manager is None
    assert east.path.startswith(gm.path)


def test_it_refuses_to_move_a_unit_under_its_own_child(people, login):
    sales = _unit("销售部")
    east = _unit("华东销售组")
    response = login(people["admin"]).post(
        f"/org/units/{sales.pk}/edit/",
        {"name": sales.name, "parent": east.pk, "version": sales.version},
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-field-error="parent"' in html
    sales.refresh_from_db()
    assert sales.parent is None


def test_it_refuses_a_stale_unit_edit(people, login):
    east = _unit("华东销售组")
    stale = east.version
    services.update_unit(east, by=people["admin"], name="华东一组")
    response = login(people["admin"]).post(
        f"/org/units/{east.pk}/edit/", {"name": "华东二组", "version": stale}
    )
    assert response.status_code == 200
    assert "changed by someone else" in response.content.decode()
    east.refresh_from_db()
    assert east.name == "华东一组"


def test_it_asks_before_deleting_a_unit(people, login):
    unit = services.create_unit(name="临时组", by=people["admin"])
    response = login(people["admin"]).get(f"/org/units/{unit.pk}/delete/")
    assert response.status_code == 200
    assert 'data-testid="confirm"' in response.content.decode()
    assert OrgUnit.objects.filter(pk=unit.pk).exists()


def test_it_deletes_an_empty_unit_into_the_recycle_bin(people, login):
    unit = services.create_unit(name="临时组", by=people["admin"])
    response = login(people["admin"]).post(f"/org/units/{unit.pk}/delete/")
    assert response.status_code == 302
    assert not OrgUnit.objects.filter(pk=unit.pk).exists()
    assert OrgUnit.all_objects.get(pk=unit.pk).deleted_by == people["admin"]
    assert AuditEntry.objects.filter(object_id=unit.pk, kind=AuditEntry.Kind.DELETE).exists()


def test_it_refuses_to_delete_a_unit_with_members(people, login):
    east = _unit("华东销售组")
    response = login(people["admin"]).post(f"/org/units/{east.pk}/delete/")
    assert response.status_code == 400
    assert 'data-field-error="members"' in response.content.decode()
    assert OrgUnit.objects.filter(pk=east.pk).exists()


def test_it_refuses_to_delete_a_unit_with_units_below(people, login):
    sales = _unit("销售部")
    response = login(people["admin"]).post(f"/org/units/{sales.pk}/delete/")
    assert response.status_code == 400
    assert 'data-field-error="parent"' in response.content.decode()


def test_it_sends_anonymous_visitors_to_the_login_page(db, client):
    response = client.get("/org/units/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")

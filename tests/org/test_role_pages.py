"""The role pages: list, detail with the grant matrix, create, edit and delete."""

from tuoke.core.models import Action, AuditEntry, Scope
from tuoke.core.scope import record_types
from tuoke.org import services
from tuoke.org.forms import grant_field_name
from tuoke.org.models import Role


def _matrix(**cells):
    """Every cell of the grant matrix set to none, except those given as type__action=scope."""
    data = {grant_field_name(rt, a.value): Scope.NONE for rt in record_types() for a in Action}
    for key, scope in cells.items():
        data[f"grant__{key}"] = scope
    return data


def test_it_lists_the_roles_in_constant_queries(people, login, django_assert_max_num_queries):
    for i in range(30):
        services.create_role(name=f"临时角色{i:02d}", grants={("user", "view"): 2}, by=None)
    client = login(people["admin"])
    with django_assert_max_num_queries(7):
        response = client.get("/org/roles/")
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('data-testid="role-row"') == 25
    assert 'data-testid="role-create"' in html


def test_it_shows_a_rep_only_his_own_roles(people, login):
    response = login(people["rep_east1"]).get("/org/roles/")
    html = response.content.decode()
    assert html.count('data-testid="role-row"') == 1
    assert "销售代表" in html
    assert 'data-testid="role-create"' not in html


def test_it_shows_a_role_with_its_grants_holders_and_history(people, login):
    role = Role.objects.get(name="销售代表")
    response = login(people["admin"]).get(f"/org/roles/{role.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="grant-matrix"' in html
    assert 'data-action="view" data-scope="2"' in html  # own unit
    assert "张伟" in html
    assert 'data-testid="audit-trail"' in html


def test_it_gives_a_rep_404_for_a_role_he_does_not_hold(people, login):
    boss_role = Role.objects.get(name="总经理")
    client = login(people["rep_east1"])
    assert client.get(f"/org/roles/{boss_role.pk}/").status_code == 404
    assert client.get(f"/org/roles/{boss_role.pk}/edit/").status_code == 404
    assert client.post(f"/org/roles/{boss_role.pk}/delete/").status_code == 404


def test_it_refuses_a_rep_the_write_pages(people, login):
    own = Role.objects.get(name="销售代表")
    client = login(people["rep_east1"])
    assert client.get("/org/roles/new/").status_code == 403
    assert client.get(f"/org/roles/{own.pk}/edit/").status_code == 403
    assert client.post(f"/org/roles/{own.pk}/delete/").status_code == 403
    assert Role.objects.filter(pk=own.pk).exists()


def test_it_creates_a_role_with_its_grant_matrix(people, login):
    response = login(people["admin"]).post(
        "/org/roles/new/",
        {"name": "区域经理", "description": "", **_matrix(user__view=3, org_unit__view=3)},
    )
    role = Role.objects.get(name="区域经理")
    assert response.status_code == 302
    assert response["Location"] == f"/org/roles/{role.pk}/"
    grants = {(g.record_type, g.action): g.scope for g in role.grants.all()}
    assert grants == {("user", "view"): Scope.SUBTREE, ("org_unit", "view"): Scope.SUBTREE}


def test_it_saves_the_grant_matrix_of_an_existing_role(people, login):
    role = Role.objects.get(name="销售代表")
    response = login(people["admin"]).post(
        f"/org/roles/{role.pk}/edit/",
        {
            "name": role.name,
            "description": role.description,
            "version": role.version,
            **_matrix(user__view=2, org_unit__view=2, role__view=1, user__export=1),
        },
    )
    assert response.status_code == 302
    grants = {(g.record_type, g.action): g.scope for g in role.grants.all()}
    assert grants[("user", "export")] == Scope.OWN
    entry = AuditEntry.objects.filter(object_id=role.pk, kind=AuditEntry.Kind.UPDATE).first()
    assert entry.changes[0]["field"] == "grants"


def test_it_shows_the_current_grants_in_the_form(people, login):
    role = Role.objects.get(name="销售代表")
    html = login(people["admin"]).get(f"/org/roles/{role.pk}/edit/").content.decode()
    field = html[html.index('name="grant__user__view"') :]
    field = field[: field.index("</select>")]
    assert '<option value="2" selected>' in field


def test_it_refuses_a_bad_scope_on_its_field(people, login):
    response = login(people["admin"]).post(
        "/org/roles/new/", {"name": "坏角色", **_matrix(user__view=9)}
    )
    assert response.status_code == 200
    assert 'data-field-error="grant__user__view"' in response.content.decode()
    assert not Role.objects.filter(name="坏角色").exists()


def test_it_refuses_a_duplicate_name_on_its_field(people, login):
    response = login(people["admin"]).post("/org/roles/new/", {"name": "销售代表", **_matrix()})
    assert response.status_code == 200
    assert 'data-field-error="name"' in response.content.decode()


def test_it_refuses_a_stale_role_edit(people, login):
    role = Role.objects.get(name="市场专员")
    stale = role.version
    services.update_role(role, by=people["admin"], description="改过了")
    response = login(people["admin"]).post(
        f"/org/roles/{role.pk}/edit/", {"name": "市场", "version": stale, **_matrix()}
    )
    assert response.status_code == 200
    assert "changed by someone else" in response.content.decode()
    role.refresh_from_db()
    assert role.name == "市场专员"
    assert role.grants.exists()


def test_it_deletes_a_role_into_the_recycle_bin_after_confirmation(people, login):
    role = Role.objects.get(name="市场专员")
    client = login(people["admin"])
    page = client.get(f"/org/roles/{role.pk}/delete/")
    assert 'data-testid="holder-warning"' in page.content.decode()
    assert Role.objects.filter(pk=role.pk).exists()
    response = client.post(f"/org/roles/{role.pk}/delete/")
    assert response.status_code == 302
    assert not Role.objects.filter(pk=role.pk).exists()
    assert Role.all_objects.deleted().filter(pk=role.pk).exists()


def test_it_counts_all_holders_even_for_a_narrow_scope(people, login):
    role = Role.objects.get(name="销售代表")
    html = login(people["rep_east1"]).get("/org/roles/").content.decode()
    row = html[html.index(f'data-pk="{role.pk}"') :]
    row = row[: row.index("</tr>")]
    assert ">4</td>" in row

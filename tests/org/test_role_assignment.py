"""Handing out roles hands out access: a user who may manage users but not roles cannot
give anyone (himself included) a role."""

import pytest
from django.core.exceptions import ValidationError

from tuoke.core.models import Action, Scope
from tuoke.org import services
from tuoke.org.models import Role


@pytest.fixture
def hr_clerk(people):
    grants = {("user", str(a)): Scope.ALL for a in (Action.VIEW, Action.CREATE, Action.EDIT)}
    grants[("role", Action.VIEW)] = Scope.ALL
    grants[("org_unit", Action.VIEW)] = Scope.ALL
    role = services.create_role(name="人事专员", grants=grants, by=people["admin"])
    return services.invite_user(
        username="hr1", display_name="人事", roles=[role], password="x-pass-123456", by=None
    )


def test_it_refuses_roles_from_someone_who_does_not_administer_roles(people, hr_clerk):
    admin_role = Role.objects.get(name="系统管理员")
    with pytest.raises(ValidationError) as error:
        services.update_user(hr_clerk, by=hr_clerk, roles=[*hr_clerk.roles.all(), admin_role])
    assert "roles" in error.value.message_dict
    with pytest.raises(ValidationError):
        services.invite_user(
            username="mole",
            display_name="内鬼",
            roles=[admin_role],
            password="p-12345678",
            by=hr_clerk,
        )
    assert not hr_clerk.roles.filter(pk=admin_role.pk).exists()


def test_it_lets_him_edit_other_fields_without_touching_roles(people, hr_clerk):
    rep = people["rep_east1"]
    services.update_user(rep, by=hr_clerk, title="高级销售代表", roles=list(rep.roles.all()))
    rep.refresh_from_db()
    assert rep.title == "高级销售代表"


def test_it_lets_an_administrator_give_roles(people):
    rep = people["rep_east1"]
    manager_role = Role.objects.get(name="销售经理")
    services.update_user(rep, by=people["admin"], roles=[manager_role])
    assert list(rep.roles.all()) == [manager_role]


def test_it_refuses_it_through_the_api_with_a_field_message(people, hr_clerk, login):
    admin_role = Role.objects.get(name="系统管理员")
    client = login(hr_clerk)
    rep = people["rep_east1"]
    response = client.patch(
        f"/api/v1/users/{rep.pk}",
        {"version": rep.version, "role_ids": [admin_role.pk]},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "roles"


def test_it_keeps_roles_the_editor_cannot_see_on_the_page_and_in_the_api(people, login):
    grants = {("user", str(a)): Scope.ALL for a in (Action.VIEW, Action.EDIT)}
    grants[("role", Action.ADMINISTER)] = Scope.OWN  # he sees only the roles he holds
    own_role = services.create_role(name="部门助理", grants=grants, by=people["admin"])
    assistant = services.invite_user(
        username="assistant",
        display_name="助理",
        roles=[own_role],
        password="a-pass-123456",
        by=None,
    )
    rep = people["rep_east1"]
    response = login(assistant).patch(
        f"/api/v1/users/{rep.pk}",
        {"version": rep.version, "role_ids": [own_role.pk]},
        content_type="application/json",
    )
    assert response.status_code == 200, response.json()
    assert set(rep.roles.values_list("name", flat=True)) == {"销售代表", "部门助理"}


def test_it_refuses_a_username_taken_in_another_case(people):
    with pytest.raises(ValidationError) as error:
        services.update_user(people["rep_east1"], by=people["admin"], username="REP_EAST2")
    assert "username" in error.value.message_dict

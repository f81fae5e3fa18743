"""Who manages which delivery channels: everyone his own, unit managers their units' robots
(with the units below), administrators every unit's; nobody another person's own."""

import pytest
from django.core.exceptions import ValidationError

from tuoke.core.models import Action, Scope
from tuoke.integrations import services
from tuoke.integrations.services import create_channel
from tuoke.org.models import OrgUnit, Role, RoleGrant

WECOM = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=channels-test-key"


@pytest.mark.parametrize(
    "username, units",
    [
        ("admin", {"总经办", "销售部", "华东销售组", "华南销售组", "客服部", "财务部", "市场部"}),
        ("director", {"销售部", "华东销售组", "华南销售组"}),
        ("manager_east", {"华东销售组"}),
        ("rep_east1", set()),
        ("boss", {"总经办"}),
    ],
)
def test_it_knows_whose_robots_each_person_manages(people, username, units):
    user = people[username]
    assert {u.name for u in services.managed_units(user)} == units
    for unit in OrgUnit.objects.all():
        assert services.may_manage_unit(user, unit) == (unit.name in units), unit.name
        assert (services.managed_unit(user, str(unit.pk)) == unit) == (unit.name in units)
    assert services.managed_unit(user, "abc") is None


@pytest.mark.parametrize("scope", [Scope.UNIT, Scope.SUBTREE])
def test_a_grant_on_delivery_channels_reaches_the_units_of_its_scope(
    people, scope, django_assert_max_num_queries
):
    role = Role.objects.create(name="机器人管理")
    RoleGrant.objects.create(
        role=role, record_type="delivery_channel", action=Action.EDIT, scope=scope
    )
    people["rep_east1"].roles.add(role)
    rep = type(people["rep_east1"]).objects.select_related("unit").get(username="rep_east1")
    assert {u.name for u in services.managed_units(rep)} == {"华东销售组"}
    for unit in OrgUnit.objects.all():
        with django_assert_max_num_queries(1):
            assert services.may_manage_unit(rep, unit) == (unit.name == "华东销售组"), unit.name


def test_nobody_manages_another_persons_own_channel(people, rep_east, admin_user):
    own = create_channel(by=rep_east, kind="wecom", user=rep_east, webhook_url=WECOM)
    assert list(services.channels_for(rep_east)) == [own]
    assert list(services.own_robots(rep_east)) == [own]
    for other in ("admin", "manager_east", "director", "rep_east2"):
        assert own not in services.channels_for(people[other])
    with pytest.raises(ValidationError) as refused:
        create_channel(by=admin_user, kind="wecom", user=rep_east, webhook_url=WECOM)
    assert "user" in refused.value.error_dict


def test_a_channel_belongs_to_one_holder(rep_east, manager_east):
    with pytest.raises(ValidationError):
        create_channel(by=manager_east, kind="wecom", webhook_url=WECOM)
    with pytest.raises(ValidationError):
        create_channel(
            by=manager_east,
            kind="wecom",
            user=manager_east,
            unit=manager_east.unit,
            webhook_url=WECOM,
        )


def test_a_robot_only_reaches_the_robot_hosts(settings):
    from tuoke.integrations import robots

    settings.ROBOT_HOSTS = ["qyapi.weixin.qq.com", "oapi.dingtalk.com"]
    robots.check_webhook_url("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=K")
    robots.check_webhook_url("https://oapi.dingtalk.com/robot/send?access_token=T")
    for inside in (
        "http://10.0.0.5/admin",
        "http://127.0.0.1:8000/api",
        "https://qyapi.weixin.qq.com.evil.example/send",
    ):
        with pytest.raises(robots.DeliveryError, match="only at"):
            robots.check_webhook_url(inside)

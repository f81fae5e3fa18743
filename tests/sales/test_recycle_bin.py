"""Pipelines, stages and lost reasons as record types: each has its own (so the recycle bin
lists deleted pipelines and deleted lost reasons, and restores them), everyone reads them, and
only who administers pipelines changes stages and lost reasons."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.core.exceptions import PermissionDenied

from tests.api.conftest import ApiClient
from tuoke.core.models import Action, Scope
from tuoke.core.scope import record_types, recyclable_types
from tuoke.org import services as org_services
from tuoke.org.models import RoleGrant, User
from tuoke.sales import config
from tuoke.sales.models import LostReason, Pipeline, Stage

pytestmark = pytest.mark.django_db


@pytest.fixture
def api_as():
    """api_as(user) → the API tests' JSON client with that user's session."""
    from django.test import Client

    def make(user):
        client = Client()
        client.force_login(user)
        return ApiClient(client)

    return make


@pytest.fixture
def admin(people):
    return people["admin"]


@pytest.fixture
def renewal(admin, people):
    config.create_pipeline(name="新业务", by=admin)  # the default, so that renewal is not
    return config.create_pipeline(name="续约", by=admin)


def _bin(client, **params) -> str:
    response = client.get("/recycle-bin/", params)
    assert response.status_code == 200
    return response.content.decode()


def _fresh(user) -> User:
    """The user read again (his grants are kept on the object)."""
    return User.objects.get(pk=user.pk)


def test_pipelines_stages_and_lost_reasons_are_record_types_of_their_own():
    types = record_types()
    assert types["pipeline"] is Pipeline
    assert types["stage"] is Stage
    assert types["lost_reason"] is LostReason
    assert {"pipeline", "stage", "lost_reason"} <= set(recyclable_types())


def test_a_deleted_pipeline_is_in_the_recycle_bin_and_comes_back_with_its_stages(
    admin, renewal, login
):
    stage_ids = set(renewal.stages.values_list("pk", flat=True))
    config.delete_pipeline(renewal, by=admin)
    client = login(admin)
    html = _bin(client)
    assert f'data-record-type="pipeline" data-pk="{renewal.pk}"' in html
    assert f'data-record-type="pipeline" data-pk="{renewal.pk}"' in _bin(client, type="pipeline")
    assert "续约" not in _bin(client, type="lost_reason")

    response = client.post(f"/recycle-bin/pipeline/{renewal.pk}/restore/")
    assert response.status_code == 302
    renewal.refresh_from_db()
    assert renewal.deleted_at is None
    assert set(Pipeline.objects.get(pk=renewal.pk).stages.values_list("pk", flat=True)) == (
        stage_ids
    )
    assert f'data-pk="{renewal.pk}"' not in _bin(client, type="pipeline")


def test_a_deleted_lost_reason_is_in_the_recycle_bin_and_comes_back(admin, login):
    reason = config.create_lost_reason(name="预算取消", by=admin)
    config.delete_lost_reason(reason, by=admin)
    assert not LostReason.objects.filter(pk=reason.pk).exists()
    client = login(admin)
    assert f'data-record-type="lost_reason" data-pk="{reason.pk}"' in _bin(client)
    assert f'data-pk="{reason.pk}"' in _bin(client, type="lost_reason")

    assert client.get(f"/recycle-bin/lost_reason/{reason.pk}/restore/").status_code == 200
    response = client.post(f"/recycle-bin/lost_reason/{reason.pk}/restore/")
    assert response.status_code == 302
    assert LostReason.objects.get(pk=reason.pk).name == "预算取消"


def test_a_rep_neither_sees_nor_restores_deleted_configuration(admin, renewal, people, login):
    reason = config.create_lost_reason(name="预算取消", by=admin)
    config.delete_lost_reason(reason, by=admin)
    config.delete_pipeline(renewal, by=admin)
    client = login(people["rep_east1"])
    html = _bin(client)
    assert f'data-pk="{renewal.pk}"' not in html
    assert f'data-pk="{reason.pk}"' not in html
    assert client.post(f"/recycle-bin/pipeline/{renewal.pk}/restore/").status_code == 404
    assert client.post(f"/recycle-bin/lost_reason/{reason.pk}/restore/").status_code == 404
    assert Pipeline.all_objects.get(pk=renewal.pk).deleted_at is not None
    assert LostReason.all_objects.get(pk=reason.pk).deleted_at is not None


def test_every_role_sees_stages_and_lost_reasons(people, admin, renewal):
    reason = config.create_lost_reason(name="预算取消", by=admin)
    stages = set(Stage.objects.values_list("pk", flat=True))
    for username, user in people.items():
        user = _fresh(user)
        assert set(Stage.objects.visible_to(user).values_list("pk", flat=True)) == stages, username
        assert LostReason.objects.visible_to(user).filter(pk=reason.pk).exists(), username


def _role(people, name: str, grants: dict[tuple[str, str], int], admin) -> User:
    role = org_services.create_role(name=name, grants=grants, by=admin)
    user = people["rep_south2"]
    user.roles.set([role])
    return _fresh(user)


def test_administering_stages_and_lost_reasons_takes_the_pipeline_grant(
    people, admin, renewal, login, api_as
):
    """Administer on "stage" and "lost_reason" alone changes nothing: their settings pages,
    API and services ask for administer on "pipeline"."""
    stage = renewal.stages.filter(kind="open").first()
    stage_name = stage.name
    reason = config.create_lost_reason(name="预算取消", by=admin)
    everything = dict.fromkeys(Action.values, Scope.ALL)
    user = _role(
        people,
        "配置半管理员",
        {
            **{("stage", action): scope for action, scope in everything.items()},
            **{("lost_reason", action): scope for action, scope in everything.items()},
            ("pipeline", Action.VIEW): Scope.ALL,
        },
        admin,
    )
    client = login(user)
    assert client.get(f"/sales/stages/{stage.pk}/edit/").status_code == 404
    assert client.get(f"/sales/lost-reasons/{reason.pk}/edit/").status_code == 404
    assert client.get("/sales/lost-reasons/").status_code == 403
    api = api_as(user)
    assert api.get(f"/stages/{stage.pk}").status_code == 200
    assert api.patch(f"/stages/{stage.pk}", {"name": "改名", "version": 1}).status_code == 403
    assert api.delete(f"/stages/{stage.pk}").status_code == 403
    assert api.get(f"/lost-reasons/{reason.pk}").status_code == 200
    stale = {"name": "改名", "version": 1}
    assert api.patch(f"/lost-reasons/{reason.pk}", stale).status_code == 403
    assert api.delete(f"/lost-reasons/{reason.pk}").status_code == 403
    with pytest.raises(PermissionDenied):
        config.update_stage(stage, by=user, name="改名")
    with pytest.raises(PermissionDenied):
        config.update_lost_reason(reason, by=user, name="改名")
    stage.refresh_from_db()
    reason.refresh_from_db()
    assert (stage.name, reason.name) == (stage_name, "预算取消")


def test_who_administers_pipelines_changes_stages_and_lost_reasons(
    people, admin, renewal, login, api_as
):
    stage = renewal.stages.filter(kind="open").first()
    reason = config.create_lost_reason(name="预算取消", by=admin)
    user = _role(
        people,
        "管道管理员",
        {
            ("pipeline", Action.ADMINISTER): Scope.ALL,
            ("stage", Action.VIEW): Scope.ALL,
            ("lost_reason", Action.VIEW): Scope.ALL,
        },
        admin,
    )
    client = login(user)
    assert client.get(f"/sales/stages/{stage.pk}/edit/").status_code == 200
    assert client.get(f"/sales/lost-reasons/{reason.pk}/edit/").status_code == 200
    assert client.get("/sales/lost-reasons/").status_code == 200
    api = api_as(user)
    response = api.patch(f"/stages/{stage.pk}", {"name": "首次拜访", "version": stage.version})
    assert response.status_code == 200, response.content
    assert Stage.objects.get(pk=stage.pk).name == "首次拜访"
    renamed = {"name": "预算砍掉", "version": reason.version}
    response = api.patch(f"/lost-reasons/{reason.pk}", renamed)
    assert response.status_code == 200, response.content
    assert LostReason.objects.get(pk=reason.pk).name == "预算砍掉"


def test_the_upgrade_gives_each_role_its_pipeline_grants_on_stages_and_lost_reasons(people, admin):
    migration = __import__(
        "tuoke.sales.migrations.0002_stage_and_lost_reason_grants", fromlist=["x"]
    )
    RoleGrant.objects.filter(record_type__in=("stage", "lost_reason")).delete()
    custom = org_services.create_role(
        name="旧配置员", grants={("pipeline", Action.ADMINISTER): Scope.ALL}, by=admin
    )
    migration.copy_pipeline_grants(apps, None)
    pipeline_grants = set(
        RoleGrant.objects.filter(record_type="pipeline").values_list("role", "action", "scope")
    )
    for record_type in ("stage", "lost_reason"):
        copied = set(
            RoleGrant.objects.filter(record_type=record_type).values_list("role", "action", "scope")
        )
        assert copied == pipeline_grants
    assert RoleGrant.objects.filter(
        role=custom, record_type="stage", action=Action.ADMINISTER
    ).exists()
    # Run again: nothing doubled.
    count = RoleGrant.objects.count()
    migration.copy_pipeline_grants(apps, None)
    assert RoleGrant.objects.count() == count

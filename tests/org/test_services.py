"""The org chart, users, roles and API tokens, written through tuoke.org.services."""

import hashlib
import re

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import Client

from tuoke.core.audit import trail_of
from tuoke.core.errors import Conflict, ErrorCode
from tuoke.core.models import Action, AuditEntry, Scope
from tuoke.org import services
from tuoke.org.demo import DEMO_PASSWORD
from tuoke.org.models import ApiToken, OrgUnit, Role, User


def _codes(exc: ValidationError) -> dict[str, list[str]]:
    return {field: [e.code for e in errors] for field, errors in exc.error_dict.items()}


def _unit(name: str) -> OrgUnit:
    return OrgUnit.objects.get(name=name)


# --- units ------------------------------------------------------------------------------------


def test_it_gives_a_new_unit_a_path_below_its_parent(people):
    east = _unit("华东销售组")
    shanghai = services.create_unit(name="  上海小组 ", parent=east, by=people["admin"])
    assert shanghai.name == "上海小组"
    assert shanghai.path == f"{east.path}{shanghai.pk:04d}."
    assert shanghai.depth == east.depth + 1
    assert trail_of(shanghai).first().kind == AuditEntry.Kind.CREATE


def test_it_moves_a_unit_with_its_whole_subtree(people):
    admin = people["admin"]
    east, gm = _unit("华东销售组"), _unit("总经办")
    shanghai = services.create_unit(name="上海小组", parent=east, by=admin)
    pudong = services.create_unit(name="浦东", parent=shanghai, by=admin)

    services.update_unit(east, by=admin, expected_version=east.version, parent=gm)

    east, shanghai, pudong = (OrgUnit.objects.get(pk=u.pk) for u in (east, shanghai, pudong))
    assert east.path == f"{gm.path}{east.pk:04d}."
    assert shanghai.path == f"{east.path}{shanghai.pk:04d}."
    assert pudong.path == f"{shanghai.path}{pudong.pk:04d}."
    assert east.parent == gm
    change = trail_of(east).first().changes[0]
    assert (change["field"], change["old"], change["new"]) == ("parent", "销售部", "总经办")
    # The subtree follows in the scopes too: the boss's unit now reaches the east group's people.
    reached = User.objects.filter(User.scope_q(people["boss"], Scope.SUBTREE))
    assert people["rep_east1"] in reached
    assert people["rep_east1"] not in User.objects.filter(
        User.scope_q(people["director"], Scope.SUBTREE)
    )


@pytest.mark.parametrize("new_parent", ["销售部", "华东销售组"])
def test_it_refuses_to_put_a_unit_below_itself(people, new_parent):
    sales = _unit("销售部")
    with pytest.raises(ValidationError) as caught:
        services.update_unit(sales, by=people["admin"], parent=_unit(new_parent))
    assert _codes(caught.value) == {"parent": [ErrorCode.CYCLE]}
    assert OrgUnit.objects.get(pk=sales.pk).parent is None


def test_it_refuses_a_stale_unit_edit(people):
    east = _unit("华东销售组")
    services.update_unit(east, by=people["admin"], name="华东大区")
    with pytest.raises(Conflict):
        services.update_unit(east, by=people["admin"], expected_version=1, name="华东")


def test_it_refuses_to_delete_a_unit_with_members_or_units_below(people):
    with pytest.raises(ValidationError) as caught:
        services.delete_unit(_unit("华东销售组"), by=people["admin"])
    assert _codes(caught.value) == {"members": [ErrorCode.IN_USE]}

    empty_parent = services.create_unit(name="Empty", by=None)
    services.create_unit(name="Below", parent=empty_parent, by=None)
    with pytest.raises(ValidationError) as caught:
        services.delete_unit(empty_parent, by=people["admin"])
    assert _codes(caught.value) == {"parent": [ErrorCode.IN_USE]}


def test_it_deletes_an_empty_unit_to_the_recycle_bin(people):
    unit = services.create_unit(name="Empty", by=None)
    services.delete_unit(unit, by=people["admin"])
    assert not OrgUnit.objects.filter(pk=unit.pk).exists()
    assert OrgUnit.all_objects.get(pk=unit.pk).deleted_by == people["admin"]


# --- users ------------------------------------------------------------------------------------


def test_it_refuses_a_username_that_is_taken(people):
    with pytest.raises(ValidationError) as caught:
        services.invite_user(username=" Rep_East1 ", display_name="Copy", by=people["admin"])
    assert _codes(caught.value) == {"username": [ErrorCode.DUPLICATE]}


def test_it_invites_by_mail_with_a_link_to_set_the_password(
    people, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        user = services.invite_user(
            username="rep_east3",
            display_name="钱多多",
            email="qian@example.com",
            unit=_unit("华东销售组"),
            roles=[Role.objects.get(name="销售代表")],
            by=people["admin"],
            base_url="https://crm.example.com",
        )

    assert not user.has_usable_password()
    assert user.unit.name == "华东销售组"
    (message,) = mail.outbox
    assert message.to == ["qian@example.com"]
    link = re.search(r"https://crm\.example\.com(/password/set/\S+/)", message.body).group(1)
    entry = trail_of(user).first()
    assert (entry.kind, entry.actor) == (AuditEntry.Kind.CREATE, people["admin"])
    assert {c["field"] for c in entry.changes} >= {"username", "email", "unit", "roles"}

    # The link works: the invitee sets a password and logs in with it.
    client = Client()
    form_url = client.get(link).url
    response = client.post(
        form_url, {"new_password1": "Hang-zhou-2025", "new_password2": "Hang-zhou-2025"}
    )
    assert response.status_code == 302
    assert Client().login(username="rep_east3", password="Hang-zhou-2025")


def test_it_sends_no_mail_when_the_admin_sets_the_password(
    people, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        user = services.invite_user(
            username="temp",
            display_name="Temp",
            email="t@example.com",
            password="x-7Yq9!pq",
            by=None,
        )
    assert mail.outbox == []
    assert user.check_password("x-7Yq9!pq")


def test_it_refuses_a_stale_user_edit(people):
    rep = people["rep_east1"]
    stale_version = rep.version
    services.update_user(rep, by=people["admin"], expected_version=stale_version, title="高级")
    assert User.objects.get(pk=rep.pk).version == stale_version + 1
    with pytest.raises(Conflict):
        services.update_user(rep, by=people["admin"], expected_version=stale_version, title="x")
    assert User.objects.get(pk=rep.pk).title == "高级"


def test_it_detects_a_concurrent_user_edit_at_the_row(people):
    mine = User.objects.get(username="rep_east1")
    theirs = User.objects.get(username="rep_east1")
    version = mine.version
    services.update_user(theirs, by=people["admin"], expected_version=version, title="Theirs")
    with pytest.raises(Conflict):
        services.update_user(mine, by=people["boss"], expected_version=version, title="Mine")


def test_it_audits_a_user_edit_with_old_and_new(people):
    rep = people["rep_east1"]
    services.update_user(rep, by=people["admin"], unit=_unit("华南销售组"))
    change = trail_of(rep).first().changes
    assert change == [{"field": "unit", "label": "unit", "old": "华东销售组", "new": "华南销售组"}]


def test_it_does_not_let_an_admin_deactivate_himself(people):
    admin = people["admin"]
    with pytest.raises(ValidationError) as caught:
        services.deactivate_user(admin, by=admin)
    assert _codes(caught.value) == {"is_active": [ErrorCode.SELF_ACTION]}
    assert User.objects.get(pk=admin.pk).is_active


def test_it_locks_a_deactivated_user_out(people, login):
    rep = people["rep_east1"]
    _token, raw = services.create_token(user=rep, name="script")
    session = login(rep)
    assert services.user_for_token(raw) == rep

    services.deactivate_user(rep, by=people["admin"])

    assert services.user_for_token(raw) is None
    assert not Client().login(username="rep_east1", password=DEMO_PASSWORD)
    assert session.get("/").url.startswith("/login/")
    assert trail_of(rep).first().kind == AuditEntry.Kind.LOGIN_FAILED
    entry = trail_of(rep).filter(kind=AuditEntry.Kind.UPDATE).first()
    assert entry.changes == [{"field": "is_active", "label": "active", "old": "✓", "new": "✗"}]

    services.reactivate_user(User.objects.get(pk=rep.pk), by=people["admin"])
    assert services.user_for_token(raw) == User.objects.get(pk=rep.pk)
    assert Client().login(username="rep_east1", password=DEMO_PASSWORD)


# --- roles ------------------------------------------------------------------------------------

AUDITOR_GRANTS = {("user", Action.VIEW): Scope.ALL, ("org_unit", Action.VIEW): Scope.SUBTREE}


def test_it_creates_a_role_with_its_grants(people):
    role = services.create_role(
        name=" 审计 ", description="Reads everything", grants=AUDITOR_GRANTS, by=people["admin"]
    )
    assert role.name == "审计"
    grants = {(g.record_type, g.action): g.scope for g in role.grants.all()}
    assert grants == AUDITOR_GRANTS
    entry = trail_of(role).first()
    assert (entry.kind, entry.actor) == (AuditEntry.Kind.CREATE, people["admin"])


def test_it_audits_the_initial_grants_of_a_role(people):
    role = services.create_role(name="审计", grants=AUDITOR_GRANTS, by=people["admin"])
    assert "grants" in {c["field"] for c in trail_of(role).first().changes}


@pytest.mark.parametrize(
    "grants",
    [
        {("no_such_type", Action.VIEW): Scope.ALL},
        {("user", "fly"): Scope.ALL},
        {("user", Action.VIEW): 9},
    ],
)
def test_it_refuses_a_grant_it_does_not_know(people, grants):
    with pytest.raises(ValidationError) as caught:
        services.create_role(name="Odd", grants=grants, by=None)
    assert _codes(caught.value) == {"grants": [ErrorCode.INVALID]}
    assert not Role.all_objects.filter(name="Odd").exists()


def test_it_refuses_a_second_role_of_the_same_name(people):
    with pytest.raises(ValidationError) as caught:
        services.create_role(name="销售代表", grants={}, by=None)
    assert _codes(caught.value) == {"name": [ErrorCode.DUPLICATE]}
    role = services.create_role(name="审计", grants={}, by=None)
    with pytest.raises(ValidationError):
        services.update_role(role, by=None, name="销售经理")


def test_it_audits_a_change_of_grants_and_counts_a_version(people):
    admin = people["admin"]
    role = services.create_role(name="审计", grants=AUDITOR_GRANTS, by=admin)

    services.update_role(
        role,
        by=admin,
        expected_version=1,
        grants={**AUDITOR_GRANTS, ("user", Action.VIEW): Scope.UNIT},
    )

    assert Role.objects.get(pk=role.pk).version == 2
    entry = trail_of(role).first()
    assert (entry.kind, entry.actor) == (AuditEntry.Kind.UPDATE, admin)
    assert entry.changes == [
        {
            "field": "grants",
            "label": "Grants",
            "old": "org_unit.view=3; user.view=4",
            "new": "org_unit.view=3; user.view=2",
        }
    ]
    with pytest.raises(Conflict):
        services.update_role(role, by=admin, expected_version=1, grants={})


def test_it_changes_what_the_holders_of_a_role_see(people):
    from tuoke.core.scope import scope_of

    rep_role = Role.objects.get(name="销售代表")
    grants = {(g.record_type, g.action): g.scope for g in rep_role.grants.all()}
    services.update_role(
        rep_role, by=people["admin"], grants={**grants, ("user", Action.VIEW): Scope.OWN}
    )
    assert scope_of(User.objects.get(username="rep_east1"), "user") == Scope.OWN


# --- API tokens -------------------------------------------------------------------------------


def test_it_stores_only_the_hash_of_a_token(people):
    rep = people["rep_east1"]
    token, raw = services.create_token(user=rep, name=" script ")

    assert raw.startswith(services.TOKEN_PREFIX)
    assert len(raw) > 40
    stored = ApiToken.objects.filter(pk=token.pk).values().get()
    assert stored["token_hash"] == hashlib.sha256(raw.encode()).hexdigest()
    assert stored["name"] == "script"
    assert raw not in {str(v) for v in stored.values()}
    assert all(raw not in e.note for e in AuditEntry.objects.all())
    assert services.user_for_token(raw) == rep


def test_it_resolves_no_token_that_is_wrong_or_revoked(people):
    rep = people["rep_east1"]
    token, raw = services.create_token(user=rep, name="script")
    for wrong in ("", raw[:-1], raw.removeprefix(services.TOKEN_PREFIX), raw + "x"):
        assert services.user_for_token(wrong) is None
    services.revoke_token(token, by=rep)
    assert services.user_for_token(raw) is None


def test_it_refuses_a_token_without_name_or_for_a_deactivated_user(people):
    rep = people["rep_east1"]
    with pytest.raises(ValidationError) as caught:
        services.create_token(user=rep, name="  ")
    assert _codes(caught.value) == {"name": [ErrorCode.REQUIRED]}
    services.deactivate_user(rep, by=people["admin"])
    with pytest.raises(ValidationError):
        services.create_token(user=User.objects.get(pk=rep.pk), name="script")

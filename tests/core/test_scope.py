"""Data scopes: own, unit, subtree and all; the widest grant over a user's roles wins;
an inactive user sees nothing; a record out of scope is a 404.

The demo company: 总经办 (boss, admin), 销售部 (director) with 华东销售组 (manager_east,
rep_east1, rep_east2) and 华南销售组 (manager_south, rep_south1, rep_south2), and the service,
finance and marketing units.
"""

import pytest
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404

from tuoke.core.models import Action, OwnedModel, Scope
from tuoke.core.scope import can, get_for, get_for_action, scope_of, scope_queryset
from tuoke.org.models import OrgUnit, Role, User
from tuoke.org.services import create_role, create_unit, deactivate_user, update_user

SALES_PEOPLE = {
    "director",
    "manager_east",
    "rep_east1",
    "rep_east2",
    "manager_south",
    "rep_south1",
    "rep_south2",
}


def _names(queryset) -> set[str]:
    return {o.username if isinstance(o, User) else o.name for o in queryset}


def _with_roles(user: User, *roles: Role) -> User:
    update_user(user, by=None, roles=[*user.roles.all(), *roles])
    return User.objects.get(pk=user.pk)  # a fresh object: grants are cached per instance


def _role(name: str, record_type: str, scope: int, action: str = Action.VIEW) -> Role:
    return create_role(name=name, grants={(record_type, action): scope}, by=None)


# --- scope_q of each kind of record ----------------------------------------------------------


def _owned_by_manager(q: Q) -> Q:
    """OwnedModel's conditions with ``owner`` read as an org unit's ``manager``.

    No concrete owned model exists yet, so units managed by someone stand in for records
    owned by him: the same joins from the owner to his unit and its path.
    """
    clone = Q(*q.children, _connector=q.connector, _negated=q.negated)
    clone.children = [
        _owned_by_manager(child)
        if isinstance(child, Q)
        else (child[0].replace("owner", "manager", 1), child[1])
        for child in q.children
    ]
    return clone


@pytest.fixture
def owned(people):
    """One "record" per person, each "owned" (managed) by that person."""
    shelf = create_unit(name="records", by=None)
    for username, user in people.items():
        create_unit(name=username, parent=shelf, manager=user, by=None)
    return OrgUnit.objects.filter(parent=shelf)


@pytest.mark.parametrize(
    ("viewer", "scope", "expected"),
    [
        ("rep_east1", Scope.OWN, {"rep_east1"}),
        ("rep_east1", Scope.UNIT, {"rep_east1", "rep_east2", "manager_east"}),
        ("rep_east1", Scope.SUBTREE, {"rep_east1", "rep_east2", "manager_east"}),
        ("director", Scope.UNIT, {"director"}),
        ("director", Scope.SUBTREE, SALES_PEOPLE),
    ],
)
def test_it_reaches_owned_records_by_the_owners_unit(owned, people, viewer, scope, expected):
    q = OwnedModel.scope_q(people[viewer], scope)
    assert _names(owned.filter(_owned_by_manager(q))) == expected


def test_it_gives_a_user_without_unit_only_his_own_records(owned, people):
    loner = update_user(people["rep_east1"], by=None, unit=None)
    for scope in (Scope.OWN, Scope.UNIT, Scope.SUBTREE):
        q = OwnedModel.scope_q(loner, scope)
        assert _names(owned.filter(_owned_by_manager(q))) == {"rep_east1"}


@pytest.mark.parametrize(
    ("viewer", "scope", "expected"),
    [
        ("rep_east1", Scope.OWN, {"rep_east1"}),
        ("rep_east1", Scope.UNIT, {"rep_east1", "rep_east2", "manager_east"}),
        ("manager_south", Scope.SUBTREE, {"manager_south", "rep_south1", "rep_south2"}),
        ("director", Scope.UNIT, {"director"}),
        ("director", Scope.SUBTREE, SALES_PEOPLE),
    ],
)
def test_it_reaches_users_by_their_unit(people, viewer, scope, expected):
    reached = User.objects.filter(User.scope_q(people[viewer], scope))
    assert _names(reached) == expected


@pytest.mark.parametrize(
    ("viewer", "scope", "expected"),
    [
        ("rep_east1", Scope.OWN, {"华东销售组"}),
        ("rep_east1", Scope.UNIT, {"华东销售组"}),
        ("director", Scope.SUBTREE, {"销售部", "华东销售组", "华南销售组"}),
        ("manager_south", Scope.SUBTREE, {"华南销售组"}),
    ],
)
def test_it_reaches_units_down_the_tree(people, viewer, scope, expected):
    reached = OrgUnit.objects.filter(OrgUnit.scope_q(people[viewer], scope))
    assert _names(reached) == expected


def test_it_reaches_no_unit_for_a_user_without_one(people):
    loner = update_user(people["rep_east1"], by=None, unit=None)
    assert not OrgUnit.objects.filter(OrgUnit.scope_q(loner, Scope.SUBTREE)).exists()


# --- roles and the scope they grant ---------------------------------------------------------


def test_it_filters_by_the_scope_the_roles_grant(people):
    rep = people["rep_east1"]  # the sales rep role: users in his unit
    assert scope_of(rep, "user") == Scope.UNIT
    assert _names(User.objects.visible_to(rep)) == {"rep_east1", "rep_east2", "manager_east"}
    assert _names(User.objects.visible_to(people["director"])) == SALES_PEOPLE
    assert User.objects.visible_to(people["boss"]).count() == User.objects.count()


def test_it_grants_nothing_that_no_role_grants(people):
    rep = people["rep_east1"]
    assert scope_of(rep, "user", Action.EDIT) == Scope.NONE
    assert not can(rep, "user", Action.EDIT)
    assert not User.objects.visible_to(rep, Action.EDIT).exists()
    assert scope_of(rep, "no_such_type") == Scope.NONE


def test_it_takes_the_widest_scope_over_all_roles(people):
    rep = _with_roles(
        people["rep_east1"],
        _role("auditor-own", "user", Scope.OWN),
        _role("auditor-subtree", "org_unit", Scope.SUBTREE),
        _role("auditor-all", "user", Scope.ALL),
    )
    assert scope_of(rep, "user") == Scope.ALL
    assert scope_of(rep, "org_unit") == Scope.SUBTREE
    assert User.objects.visible_to(rep).count() == User.objects.count()


def test_it_ignores_the_grants_of_a_deleted_role(people):
    from tuoke.core.services import soft_delete

    wide = _role("temporary", "user", Scope.ALL)
    rep = _with_roles(people["rep_east1"], wide)
    assert scope_of(rep, "user") == Scope.ALL
    soft_delete(wide, by=None)
    assert scope_of(User.objects.get(pk=rep.pk), "user") == Scope.UNIT


def test_it_lets_a_superuser_see_everything(people):
    root = User.objects.create_superuser("root", password="x-1234567")
    assert scope_of(root, "user", Action.ADMINISTER) == Scope.ALL
    assert scope_of(root, "anything") == Scope.ALL


def test_it_shows_an_inactive_user_nothing(people):
    deactivate_user(people["boss"], by=people["admin"])
    boss = User.objects.get(pk=people["boss"].pk)
    assert scope_of(boss, "user") == Scope.NONE
    assert not User.objects.visible_to(boss).exists()
    with pytest.raises(Http404):
        get_for(boss, User, boss.pk)


def test_it_shows_an_anonymous_visitor_nothing(people):
    from django.contrib.auth.models import AnonymousUser

    assert not scope_queryset(User.objects.all(), AnonymousUser()).exists()


def test_it_fetches_a_record_in_scope_and_hides_one_outside(people):
    rep = people["rep_east1"]
    assert get_for(rep, User, people["rep_east2"].pk) == people["rep_east2"]
    assert get_for(rep, OrgUnit.objects.all(), rep.unit_id) == rep.unit
    for pk in (people["rep_south1"].pk, 10**9, "not-a-number", None):
        with pytest.raises(Http404):
            get_for(rep, User, pk)
    with pytest.raises(Http404):
        get_for(rep, User, people["rep_east2"].pk, action=Action.EDIT)


def test_it_hides_a_deleted_record_from_get_for(people):
    from tuoke.core.services import soft_delete

    role = _role("old", "user", Scope.OWN)
    soft_delete(role, by=None)
    with pytest.raises(Http404):
        get_for(people["admin"], Role, role.pk)


def test_it_lets_administering_include_every_action_within_its_scope(people):
    clerk = _with_roles(
        people["rep_east1"],
        create_role(
            name="部门管理员",
            grants={("user", Action.ADMINISTER): Scope.UNIT, ("user", Action.EDIT): Scope.OWN},
            by=None,
        ),
    )
    assert scope_of(clerk, "user", Action.EDIT) == Scope.UNIT
    assert scope_of(clerk, "user", Action.DELETE) == Scope.UNIT
    assert scope_of(clerk, "org_unit", Action.EDIT) == Scope.NONE


def test_it_tells_a_record_out_of_sight_from_one_out_of_reach(people):
    rep = people["rep_east1"]
    colleague, stranger = people["rep_east2"], people["rep_south1"]
    with pytest.raises(PermissionDenied):
        get_for_action(rep, User, colleague.pk, Action.EDIT)
    with pytest.raises(Http404):
        get_for_action(rep, User, stranger.pk, Action.EDIT)
    assert get_for_action(people["admin"], User, stranger.pk, Action.EDIT) == stranger

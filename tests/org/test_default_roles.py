"""The standard roles come with the installation (after migrate), and upgrades give them the
grants of new record types without undoing what an administrator changed."""

from tuoke.core.models import Action, Scope
from tuoke.core.services import soft_delete
from tuoke.org import defaults
from tuoke.org.models import Role, RoleGrant
from tuoke.org.services import update_role


def _rep_role():
    return Role.objects.get(default_key="sales_rep")


def test_a_new_installation_has_the_standard_roles(db):
    assert set(Role.objects.values_list("default_key", flat=True)) == set(defaults.ROLES)
    rep = _rep_role()
    assert rep.grants.filter(record_type="customer", action=Action.VIEW, scope=Scope.OWN).exists()


def test_running_it_again_changes_nothing(db):
    before = list(RoleGrant.objects.order_by("pk").values_list("pk", "scope"))
    assert defaults.install_default_roles() == []
    assert list(RoleGrant.objects.order_by("pk").values_list("pk", "scope")) == before


def test_an_upgrade_adds_the_grants_of_a_new_record_type(db):
    rep = _rep_role()
    # As if the installation predates customers: no grants, not seeded.
    rep.grants.filter(record_type="customer").delete()
    Role.objects.filter(pk=rep.pk).update(
        seeded_types=[t for t in rep.seeded_types if t != "customer"]
    )
    done = defaults.install_default_roles()
    assert any("customer" in line for line in done)
    assert rep.grants.filter(record_type="customer", action=Action.EDIT).get().scope == Scope.OWN


def test_it_never_puts_back_a_grant_an_administrator_removed(db):
    rep = _rep_role()
    grants = {
        (g.record_type, g.action): g.scope
        for g in rep.grants.exclude(record_type="customer", action=Action.DELETE)
    }
    update_role(rep, by=None, grants=grants)
    defaults.install_default_roles()
    assert not rep.grants.filter(record_type="customer", action=Action.DELETE).exists()


def test_a_renamed_role_is_still_the_standard_one(db):
    update_role(_rep_role(), by=None, name="客户经理")
    defaults.install_default_roles()
    assert Role.objects.filter(default_key="sales_rep").get().name == "客户经理"
    assert not Role.objects.filter(name=defaults.ROLES["sales_rep"][0]).exists()


def test_a_deleted_standard_role_stays_deleted(db):
    soft_delete(Role.objects.get(default_key="marketing"), by=None)
    defaults.install_default_roles()
    assert not Role.objects.filter(default_key="marketing").exists()


def test_roles_made_by_an_earlier_version_are_adopted_by_name(db):
    Role.all_objects.update(default_key="")
    defaults.install_default_roles()
    assert Role.all_objects.filter(default_key="sales_rep").count() == 1
    assert Role.all_objects.count() == len(defaults.ROLES)

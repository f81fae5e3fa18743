"""The standard roles a new Tuoke starts with; administrators edit them in the UI afterwards.

Each later app adds the grants for its own record types to ``ROLE_GRANTS`` (see ``extend``).
"""

from __future__ import annotations

from django.db import transaction

from tuoke.core.models import Action, Scope

ALL_ACTIONS = tuple(Action.values)

# role key → (name, description), stored as data in the language of the company (Chinese);
# administrators rename and describe them in the UI.
ROLES: dict[str, tuple[str, str]] = {
    "administrator": ("系统管理员", "管理部门、用户、角色和系统设置"),
    "boss": ("总经理", "查看公司全部数据"),
    "director": ("销售总监", "领导销售部及其下属销售组"),
    "sales_manager": ("销售经理", "领导一个销售组"),
    "sales_rep": ("销售代表", "跟进本人的客户"),
    "customer_service": ("客服专员", "服务已签约客户"),
    "finance": ("财务专员", "回款、发票和对账"),
    "marketing": ("市场专员", "线索渠道及其成本"),
}

# role key → record type → action → scope
ROLE_GRANTS: dict[str, dict[str, dict[str, int]]] = {
    "administrator": {
        rt: dict.fromkeys(ALL_ACTIONS, Scope.ALL) for rt in ("user", "org_unit", "role")
    },
    "boss": {
        "user": {Action.VIEW: Scope.ALL, Action.EXPORT: Scope.ALL},
        "org_unit": {Action.VIEW: Scope.ALL},
        "role": {Action.VIEW: Scope.ALL},
    },
    "director": {
        "user": {Action.VIEW: Scope.SUBTREE},
        "org_unit": {Action.VIEW: Scope.SUBTREE},
        "role": {Action.VIEW: Scope.ALL},
    },
    "sales_manager": {
        "user": {Action.VIEW: Scope.SUBTREE},
        "org_unit": {Action.VIEW: Scope.SUBTREE},
        "role": {Action.VIEW: Scope.ALL},
    },
    "sales_rep": {
        "user": {Action.VIEW: Scope.UNIT},
        "org_unit": {Action.VIEW: Scope.UNIT},
        "role": {Action.VIEW: Scope.OWN},
    },
    "customer_service": {
        "user": {Action.VIEW: Scope.UNIT},
        "org_unit": {Action.VIEW: Scope.UNIT},
        "role": {Action.VIEW: Scope.OWN},
    },
    "finance": {
        "user": {Action.VIEW: Scope.UNIT},
        "org_unit": {Action.VIEW: Scope.UNIT},
        "role": {Action.VIEW: Scope.OWN},
    },
    "marketing": {
        "user": {Action.VIEW: Scope.UNIT},
        "org_unit": {Action.VIEW: Scope.UNIT},
        "role": {Action.VIEW: Scope.OWN},
    },
}


def extend(record_type: str, grants: dict[str, dict[str, int]]) -> None:
    """Let an app add the default grants of its record type: role key → action → scope."""
    ROLE_GRANTS["administrator"][record_type] = dict.fromkeys(ALL_ACTIONS, Scope.ALL)
    for role_key, actions in grants.items():
        ROLE_GRANTS[role_key][record_type] = dict(actions)


def flat_grants(role_key: str) -> dict[tuple[str, str], int]:
    return {
        (record_type, str(action)): int(scope)
        for record_type, actions in ROLE_GRANTS[role_key].items()
        for action, scope in actions.items()
    }


@transaction.atomic
def ensure_default_roles(*, by=None) -> dict:
    """Create the standard roles, or bring their grants up to date; returns key → Role."""
    from . import services
    from .models import Role

    roles = {}
    for key, (name, description) in ROLES.items():
        role = Role.all_objects.filter(name=name).first()
        if role is None:
            role = services.create_role(
                name=name, description=description, grants=flat_grants(key), by=by
            )
        else:
            if role.deleted_at is not None:
                from tuoke.core.services import restore

                restore(role, by=by)
            role = services.update_role(role, by=by, grants=flat_grants(key))
        Role.all_objects.filter(pk=role.pk).update(
            default_key=key, seeded_types=sorted(ROLE_GRANTS[key])
        )
        roles[key] = role
    return roles


@transaction.atomic
def install_default_roles() -> list[str]:
    """Run after every ``migrate``: create the standard roles a new installation lacks, and
    give existing ones the default grants of record types that appeared since (an upgrade
    that adds leads gives the sales roles their lead grants). A role an administrator
    deleted stays deleted, and grants he changed or removed are never put back: a record
    type is seeded once per role. Returns what it did, for the log."""
    from tuoke.core import audit
    from tuoke.core.models import AuditEntry

    from . import services
    from .models import Role, RoleGrant

    done = []
    for key, (name, description) in ROLES.items():
        wanted = ROLE_GRANTS[key]
        role = Role.all_objects.filter(default_key=key).first()
        if role is None:
            # Roles made by an earlier version (or the demo) carry no key yet: adopt by name.
            role = Role.all_objects.filter(name=name, default_key="").first()
            if role is not None:
                role.default_key = key
                role.save(update_fields=["default_key"])
        if role is None:
            role = services.create_role(
                name=name, description=description, grants=flat_grants(key), by=None
            )
            Role.all_objects.filter(pk=role.pk).update(default_key=key, seeded_types=sorted(wanted))
            done.append(f"created role {name}")
            continue
        new_types = [t for t in wanted if t not in role.seeded_types]
        if not new_types:
            continue
        if role.deleted_at is None:
            granted = set(role.grants.values_list("record_type", flat=True))
            added = [t for t in new_types if t not in granted]
            RoleGrant.objects.bulk_create(
                RoleGrant(role=role, record_type=t, action=action, scope=scope)
                for t in added
                for action, scope in wanted[t].items()
            )
            if added:
                audit.record(
                    role,
                    kind=AuditEntry.Kind.UPDATE,
                    actor=None,
                    note="default grants added for: " + ", ".join(added),
                )
                done.append(f"role {role.name}: grants for {', '.join(added)}")
        Role.all_objects.filter(pk=role.pk).update(
            seeded_types=sorted({*role.seeded_types, *new_types})
        )
    return done


# Custom field definitions are configuration every form needs, so everyone reads them;
# only administrators change them (``extend`` gives the administrator every action).
extend(
    "custom_field",
    {key: {Action.VIEW: Scope.ALL} for key in ROLES if key != "administrator"},
)

_EVERYONE = [key for key in ROLES if key != "administrator"]

# Exchange rates: every report reads them; finance keeps them.
extend(
    "exchange_rate",
    {
        key: (
            dict.fromkeys(ALL_ACTIONS, Scope.ALL) if key == "finance" else {Action.VIEW: Scope.ALL}
        )
        for key in _EVERYONE
    },
)
# Approval flows: configuration every submission reads; administrators change them.
extend("approval_flow", {key: {Action.VIEW: Scope.ALL} for key in _EVERYONE})
# Approval requests: one's own, the team's for managers, all for the boss; the approvers a
# request names see it besides (ApprovalRequest.shared_q).
extend(
    "approval_request",
    {
        **{key: {Action.VIEW: Scope.OWN} for key in _EVERYONE},
        "boss": {Action.VIEW: Scope.ALL},
        "director": {Action.VIEW: Scope.SUBTREE},
        "sales_manager": {Action.VIEW: Scope.SUBTREE},
    },
)

"""The demo company's org chart and people (idempotent: running it again changes nothing)."""

from __future__ import annotations

from django.db import transaction

from . import services
from .defaults import ensure_default_roles
from .models import OrgUnit, User

DEMO_PASSWORD = "tuoke-demo"

# key → (name, parent key)
UNITS: dict[str, tuple[str, str | None]] = {
    "gm": ("总经办", None),
    "sales": ("销售部", None),
    "east": ("华东销售组", "sales"),
    "south": ("华南销售组", "sales"),
    "cs": ("客服部", None),
    "finance": ("财务部", None),
    "marketing": ("市场部", None),
}

# username → (display name, job title, unit key, role key, manages unit key)
PEOPLE: dict[str, tuple[str, str, str, str, str | None]] = {
    "admin": ("李管理", "系统管理员", "gm", "administrator", None),
    "boss": ("赵总", "总经理", "gm", "boss", "gm"),
    "director": ("孙总监", "销售总监", "sales", "director", "sales"),
    "manager_east": ("王经理", "华东销售经理", "east", "sales_manager", "east"),
    "manager_south": ("陈经理", "华南销售经理", "south", "sales_manager", "south"),
    "rep_east1": ("张伟", "销售代表", "east", "sales_rep", None),
    "rep_east2": ("刘洋", "销售代表", "east", "sales_rep", None),
    "rep_south1": ("黄敏", "销售代表", "south", "sales_rep", None),
    "rep_south2": ("林静", "销售代表", "south", "sales_rep", None),
    "cs1": ("周客服", "客服专员", "cs", "customer_service", "cs"),
    "finance1": ("吴会计", "财务专员", "finance", "finance", "finance"),
    "marketing1": ("郑市场", "市场专员", "marketing", "marketing", "marketing"),
}


@transaction.atomic
def build_org(*, password: str = DEMO_PASSWORD) -> dict[str, User]:
    """Units, standard roles and the demo users; returns username → User."""
    roles = ensure_default_roles()
    units: dict[str, OrgUnit] = {}
    for key, (name, parent_key) in UNITS.items():
        parent = units[parent_key] if parent_key else None
        unit = OrgUnit.objects.filter(name=name, parent=parent).first()
        units[key] = unit or services.create_unit(name=name, parent=parent, by=None)
    people: dict[str, User] = {}
    for username, (display_name, title, unit_key, role_key, _manages) in PEOPLE.items():
        user = User.objects.filter(username=username).first()
        if user is None:
            user = services.invite_user(
                username=username,
                display_name=display_name,
                title=title,
                email=f"{username}@demo.tuoke.local",
                mobile="",
                unit=units[unit_key],
                roles=[roles[role_key]],
                password=password,
                by=None,
            )
        people[username] = user
    for username, (*_rest, manages) in PEOPLE.items():
        if manages and units[manages].manager_id != people[username].pk:
            services.update_unit(units[manages], by=None, manager=people[username])
    return people

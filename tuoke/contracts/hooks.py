"""How contracts plug into the rest of Tuoke (grants, approvals, handover, timeline, daily
plan, lifecycle): everything is registered from ``install``, called by ``ContractsConfig.ready``."""


def install() -> None:
    from tuoke.core.models import Action, Scope
    from tuoke.org import defaults

    work = (Action.VIEW, Action.CREATE, Action.EDIT, Action.DELETE, Action.EXPORT)
    team_work = {**dict.fromkeys(work, Scope.SUBTREE), Action.APPROVE: Scope.SUBTREE}
    read_all = {Action.VIEW: Scope.ALL, Action.EXPORT: Scope.ALL}
    everything = dict.fromkeys(Action.values, Scope.ALL)
    # Reps draft their own contracts; managers steer their team's; the boss and finance read
    # all of them (finance changes money, not the contracts' terms).
    defaults.extend(
        "contract",
        {
            "boss": {**read_all, Action.APPROVE: Scope.ALL},
            "director": team_work,
            "sales_manager": team_work,
            "sales_rep": dict.fromkeys(work, Scope.OWN),
            "customer_service": {Action.VIEW: Scope.OWN},
            "finance": read_all,
        },
    )
    # Payments: reps record what their customers paid (finance confirms it); finance records,
    # confirms (approve) and corrects every payment.
    record = {Action.VIEW: Scope.OWN, Action.CREATE: Scope.OWN}
    team_record = {Action.VIEW: Scope.SUBTREE, Action.CREATE: Scope.SUBTREE}
    defaults.extend(
        "payment",
        {
            "boss": read_all,
            "director": {**team_record, Action.EXPORT: Scope.SUBTREE},
            "sales_manager": {**team_record, Action.EXPORT: Scope.SUBTREE},
            "sales_rep": record,
            "customer_service": {Action.VIEW: Scope.OWN},
            "finance": everything,
        },
    )
    # Invoices: reps request them for their contracts; finance issues and voids them.
    defaults.extend(
        "invoice",
        {
            "boss": read_all,
            "director": {**team_record, Action.EXPORT: Scope.SUBTREE},
            "sales_manager": {**team_record, Action.EXPORT: Scope.SUBTREE},
            "sales_rep": record,
            "customer_service": {Action.VIEW: Scope.OWN},
            "finance": everything,
        },
    )
    # The rest (approval target, handover, timeline, plan, receivers) is added by the
    # contracts services helper, the timeline/plan helper … see the spec.
    _install_timeline_and_plan()


def _install_timeline_and_plan() -> None:
    from . import plan, timeline

    timeline.register_sources()  # contracts, approvals, payments, invoices on the customer's
    plan.register_sources()  # overdue instalments and renewals due on the owners' plans

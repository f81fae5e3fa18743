"""How sales plugs into the rest of Tuoke (grants, handover, timeline, daily plan, lifecycle,
follow-ups, merge, lead conversion): everything is registered from ``install``, called by
``SalesConfig.ready``."""


def install() -> None:
    from tuoke.core.models import Action, Scope
    from tuoke.org import defaults

    work = (Action.VIEW, Action.CREATE, Action.EDIT, Action.DELETE, Action.EXPORT)
    team_work = {**dict.fromkeys(work, Scope.SUBTREE), Action.APPROVE: Scope.SUBTREE}
    read_all = {Action.VIEW: Scope.ALL, Action.EXPORT: Scope.ALL}
    # Reps own their deals; managers see and steer their team's; the boss reads everything.
    defaults.extend(
        "opportunity",
        {
            "boss": {**read_all, Action.APPROVE: Scope.ALL},
            "director": team_work,
            "sales_manager": team_work,
            "sales_rep": dict.fromkeys(work, Scope.OWN),
            "customer_service": {Action.VIEW: Scope.OWN},
            "finance": read_all,
        },
    )
    everyone = [key for key in defaults.ROLES if key != "administrator"]
    # Pipelines, stages, lost reasons and products: configuration every form reads.
    for record_type in ("pipeline", "product"):
        defaults.extend(record_type, {key: {Action.VIEW: Scope.ALL} for key in everyone})

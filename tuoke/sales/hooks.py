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
    # Stages and lost reasons are changed under the "pipeline" grant (tuoke.sales.config);
    # their own record types let the recycle bin and the role editor tell them apart.
    for record_type in ("pipeline", "stage", "lost_reason", "product"):
        defaults.extend(record_type, {key: {Action.VIEW: Scope.ALL} for key in everyone})

    _install_handover()
    _install_timeline_and_plan()
    _install_receivers()


def _install_handover() -> None:
    from django.utils.translation import gettext_lazy

    from tuoke.org import handover

    from . import services
    from .models import Opportunity, OpportunityStatus

    # Open deals go with a handover; won and lost ones are history and stay with their owner.
    handover.register(
        handover.Kind(
            key="opportunities",
            label=gettext_lazy("open opportunities"),
            record_type=Opportunity.record_type,
            owned_by=lambda person: Opportunity.objects.filter(
                owner=person, status=OpportunityStatus.OPEN
            ),
            transfer=services.transfer_opportunities,
            order=30,
        )
    )


def _install_timeline_and_plan() -> None:
    from . import plan, timeline

    timeline.register_sources()  # deals opened, stage moves, won and lost on the customer's
    plan.register_source()  # stalled deals on their owner's daily plan


def on_follow_up_logged(sender, follow_up, **kwargs) -> None:
    """A follow-up on a customer is activity on its open deals."""
    from .services import touch_activity

    if follow_up.customer_id is not None:
        touch_activity(follow_up.customer_id, follow_up.happened_at)


def on_lead_converted(sender, lead, customer, contact, by, opportunity=None, **kwargs) -> None:
    """A conversion that asked for an opportunity gets one, from the lead's needs."""
    from .services import create_from_lead

    if opportunity is not None:
        create_from_lead(lead, customer=customer, contact=contact, by=by, facts=opportunity)


def _install_receivers() -> None:
    from tuoke.activities.services import follow_up_logged
    from tuoke.leads.services import lead_converted

    follow_up_logged.connect(on_follow_up_logged, dispatch_uid="sales.follow_up_logged")
    lead_converted.connect(on_lead_converted, dispatch_uid="sales.lead_converted")
    # Merging customers moves every record pointing at the merged one (opportunities among
    # them: customers.services.merge_customers walks the customer's relations), so nothing
    # to register for it.

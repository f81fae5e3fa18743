from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _install_defaults(sender, using="default", **kwargs) -> None:
    """The built-in follow-up kinds and the default cadences, once: kinds or cadences an
    administrator renamed, changed or removed are never put back."""
    from .models import BUILT_IN_KINDS, DEFAULT_CADENCES, Cadence, FollowUpKind

    known = set(FollowUpKind.all_objects.using(using).values_list("key", flat=True))
    for order, (key, (_label, icon)) in enumerate(BUILT_IN_KINDS.items()):
        if key not in known:
            FollowUpKind.all_objects.using(using).create(key=key, icon=icon, sort_order=order * 10)
    if not Cadence.all_objects.using(using).exists():
        Cadence.all_objects.using(using).bulk_create(
            Cadence(tier=tier, days=days) for tier, days in DEFAULT_CADENCES.items()
        )


class ActivitiesConfig(AppConfig):
    name = "tuoke.activities"
    label = "activities"
    verbose_name = _("Activities")

    def ready(self) -> None:
        from tuoke.core.models import Action, Scope
        from tuoke.org import defaults

        post_migrate.connect(_install_defaults, sender=self)

        from .plan import register_handover
        from .views_plan import register_navigation  # Today, Tasks, Team, plan settings

        register_navigation()
        register_handover()  # open tasks go with a handover

        from . import timeline

        timeline.register_sources()

        from tuoke.web.navigation import NavEntry, register

        register(
            NavEntry(
                key="visits",
                label=_("Visits"),
                url_name="activities:visit_list",
                icon="map-pin",
                order=230,
                requires=("visit", "view"),
            )
        )
        register(
            NavEntry(
                key="follow_up_kinds",
                label=_("Follow-up kinds"),
                url_name="activities:kind_list",
                icon="list-details",
                section=_("Settings"),
                order=985,
                requires=("follow_up_kind", "administer"),
            )
        )

        # Follow-ups, visits and comments are seen with the customer or lead they are about
        # (their scope_q); a grant's scope is that of the customers it reaches.
        own = dict.fromkeys((Action.VIEW, Action.CREATE, Action.EDIT, Action.DELETE), Scope.OWN)
        team = {
            **dict.fromkeys((Action.VIEW, Action.CREATE, Action.EDIT), Scope.SUBTREE),
            Action.DELETE: Scope.OWN,
            Action.APPROVE: Scope.SUBTREE,
        }
        read_all = {Action.VIEW: Scope.ALL, Action.EXPORT: Scope.ALL}
        for record_type in ("follow_up", "visit", "comment", "task"):
            defaults.extend(
                record_type,
                {
                    "boss": {**read_all, Action.CREATE: Scope.ALL, Action.APPROVE: Scope.ALL},
                    "director": team,
                    "sales_manager": team,
                    "sales_rep": own,
                    "customer_service": {**own, Action.VIEW: Scope.ALL},
                    "finance": {**own, Action.VIEW: Scope.ALL},
                    "marketing": own,
                },
            )
        read = {Action.VIEW: Scope.ALL}
        for record_type in ("follow_up_kind", "plan_setting"):
            everyone = [key for key in defaults.ROLES if key != "administrator"]
            defaults.extend(record_type, dict.fromkeys(everyone, read))

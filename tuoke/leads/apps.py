from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class LeadsConfig(AppConfig):
    name = "tuoke.leads"
    label = "leads"
    verbose_name = _("Leads")

    def ready(self) -> None:
        from tuoke.core.models import Action, Scope
        from tuoke.org import defaults, handover
        from tuoke.web.navigation import NavEntry, register

        from . import services
        from .models import OPEN_STATUSES, Lead

        # Open leads go with a handover; converted and cleaned ones are history.
        handover.register(
            handover.Kind(
                key="leads",
                label=_("leads"),
                record_type="lead",
                owned_by=lambda person: Lead.objects.filter(owner=person, status__in=OPEN_STATUSES),
                transfer=services.transfer_leads,
                order=20,
            )
        )

        settings_section = _("Settings")
        for entry in (
            NavEntry(
                key="leads",
                label=_("Leads"),
                url_name="leads:lead_list",
                icon="target-arrow",
                order=150,
                requires=("lead", "view"),
            ),
            NavEntry(
                key="channels",
                label=_("Channels"),
                url_name="leads:channel_list",
                icon="speakerphone",
                section=settings_section,
                order=950,
                requires=("channel_cost", "view"),
            ),
            NavEntry(
                key="assignment_rules",
                label=_("Lead assignment"),
                url_name="leads:rule_list",
                icon="arrows-shuffle",
                section=settings_section,
                order=955,
                requires=("assignment_rule", "view"),
            ),
        ):
            register(entry)

        work = (Action.VIEW, Action.CREATE, Action.EDIT, Action.DELETE, Action.EXPORT)
        team_work = {
            **dict.fromkeys(work, Scope.SUBTREE),
            Action.APPROVE: Scope.SUBTREE,
            Action.IMPORT: Scope.SUBTREE,
        }
        # Reps own their leads; managers see their team's and distribute them (approve);
        # marketing enters, cleans and distributes leads of every team.
        defaults.extend(
            "lead",
            {
                "boss": dict.fromkeys((Action.VIEW, Action.EXPORT, Action.APPROVE), Scope.ALL),
                "director": team_work,
                "sales_manager": team_work,
                "sales_rep": dict.fromkeys(work, Scope.OWN),
                "marketing": {
                    **dict.fromkeys(work, Scope.ALL),
                    Action.APPROVE: Scope.ALL,
                    Action.IMPORT: Scope.ALL,
                },
            },
        )
        manage = dict.fromkeys((Action.VIEW, Action.CREATE, Action.EDIT, Action.DELETE), Scope.ALL)
        everyone_reads = {Action.VIEW: Scope.ALL}
        # Channels are configuration every lead form needs; their costs are marketing's figures.
        defaults.extend(
            "channel",
            {
                **{key: everyone_reads for key in defaults.ROLES if key != "administrator"},
                "marketing": manage,
            },
        )
        defaults.extend(
            "channel_cost",
            {
                "boss": everyone_reads,
                "director": everyone_reads,
                "marketing": manage,
            },
        )
        defaults.extend(
            "assignment_rule",
            {
                "boss": everyone_reads,
                "director": dict.fromkeys(
                    (Action.VIEW, Action.CREATE, Action.EDIT, Action.DELETE), Scope.SUBTREE
                ),
                "sales_manager": dict.fromkeys(
                    (Action.VIEW, Action.CREATE, Action.EDIT, Action.DELETE), Scope.SUBTREE
                ),
                "marketing": manage,
            },
        )

        # Leads in the global search; SQLite's search triggers after migrate.
        from . import search, search_index

        search.register()
        post_migrate.connect(search_index.on_post_migrate, sender=self)

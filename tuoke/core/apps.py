from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "tuoke.core"
    label = "core"
    verbose_name = _("Core")

    def ready(self) -> None:
        from tuoke.org import defaults
        from tuoke.org.models import OrgUnit, Role, RoleGrant, User
        from tuoke.web.navigation import NavEntry, register

        from . import directory, signals  # noqa: F401
        from .models import Action, CustomField, ListPreference, SavedView, Scope

        directory.watch(User, OrgUnit, Role, RoleGrant, CustomField, SavedView, ListPreference)

        # Everyone keeps his own saved views (and reads those his team shares with him).
        personal = dict.fromkeys(
            (Action.VIEW, Action.CREATE, Action.EDIT, Action.DELETE), Scope.OWN
        )
        defaults.extend(
            "saved_view", {key: personal for key in defaults.ROLES if key != "administrator"}
        )

        register(
            NavEntry(
                key="recycle_bin",
                label=_("Recycle bin"),
                url_name="core:recycle_bin",
                icon="trash",
                section=_("Data"),
                order=990,
            )
        )
        register(
            NavEntry(
                key="custom_fields",
                label=_("Custom fields"),
                url_name="custom_fields:list",
                icon="forms",
                section=_("Settings"),
                order=980,
                requires=("custom_field", "administer"),
            )
        )
        register(
            NavEntry(
                key="exchange_rates",
                label=_("Exchange rates"),
                url_name="exchange_rates:list",
                icon="currency-dollar",
                section=_("Settings"),
                order=974,
                requires=("exchange_rate", "edit"),
            )
        )

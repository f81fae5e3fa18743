from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrgConfig(AppConfig):
    name = "tuoke.org"
    label = "org"
    verbose_name = _("Organisation")

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from tuoke.web.navigation import NavEntry, register

        post_migrate.connect(_install_default_roles, sender=self)

        from . import search

        search.register()  # colleagues and units in the global search

        admin = _("Organisation")
        for entry in (
            NavEntry(
                key="org_units",
                label=_("Org chart"),
                url_name="org:unit_list",
                icon="sitemap",
                section=admin,
                order=900,
                requires=("org_unit", "view"),
            ),
            NavEntry(
                key="org_users",
                label=_("Users"),
                url_name="org:user_list",
                icon="users",
                section=admin,
                order=910,
                requires=("user", "administer"),
            ),
            NavEntry(
                key="org_roles",
                label=_("Roles"),
                url_name="org:role_list",
                icon="shield-lock",
                section=admin,
                order=920,
                requires=("role", "administer"),
            ),
            NavEntry(
                key="approvals",
                label=_("Approvals"),
                url_name="approvals:queue",
                icon="checklist",
                order=190,
                requires=("approval_request", "view"),
            ),
            NavEntry(
                key="approval_flows",
                label=_("Approval flows"),
                url_name="approvals:flow_list",
                icon="route",
                section=_("Settings"),
                order=970,
                requires=("approval_flow", "administer"),
            ),
        ):
            register(entry)


def _install_default_roles(sender, using="default", verbosity=1, **kwargs) -> None:
    from . import defaults

    for line in defaults.install_default_roles():
        if verbosity >= 1:
            print(f"  {line}")

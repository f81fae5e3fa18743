from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class SalesConfig(AppConfig):
    name = "tuoke.sales"
    label = "sales"
    verbose_name = _("Sales")

    def ready(self) -> None:
        from tuoke.web.navigation import NavEntry, register

        settings_section = _("Settings")
        for entry in (
            NavEntry(
                key="opportunities",
                label=_("Opportunities"),
                url_name="sales:opportunity_list",
                icon="briefcase",
                order=160,
                requires=("opportunity", "view"),
            ),
            NavEntry(
                key="board",
                label=_("Deal board"),
                url_name="sales:board_default",
                icon="layout-kanban",
                order=165,
                requires=("opportunity", "view"),
            ),
            NavEntry(
                key="close_soon",
                label=_("Close soon"),
                url_name="sales:close_soon",
                icon="flame",
                order=168,
                requires=("opportunity", "view"),
            ),
            NavEntry(
                key="funnel",
                label=_("Sales funnel"),
                url_name="sales:funnel",
                icon="filter",
                order=260,
                requires=("opportunity", "view"),
            ),
            NavEntry(
                key="pipelines",
                label=_("Pipelines"),
                url_name="sales:pipeline_list",
                icon="git-branch",
                section=settings_section,
                order=960,
                requires=("pipeline", "administer"),
            ),
            NavEntry(
                key="lost_reasons",
                label=_("Lost reasons"),
                url_name="sales:lost_reason_list",
                icon="thumb-down",
                section=settings_section,
                order=962,
                requires=("pipeline", "administer"),
            ),
            NavEntry(
                key="products",
                label=_("Products"),
                url_name="sales:product_list",
                icon="package",
                section=settings_section,
                order=964,
                requires=("product", "administer"),
            ),
        ):
            register(entry)

        from . import hooks
        from .defaults import install_defaults

        hooks.install()
        # A fresh installation gets a pipeline and lost reasons to start with.
        post_migrate.connect(install_defaults, sender=self)

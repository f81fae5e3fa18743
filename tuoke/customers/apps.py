from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class CustomersConfig(AppConfig):
    name = "tuoke.customers"
    label = "customers"
    verbose_name = _("Customers")

    def ready(self) -> None:
        from tuoke.core import directory
        from tuoke.core.models import Action, Scope
        from tuoke.org import defaults, handover
        from tuoke.web.navigation import NavEntry, register

        from . import services
        from .models import Customer, Tag

        directory.watch(Tag)

        handover.register(
            handover.Kind(
                key="customers",
                label=_("customers"),
                record_type="customer",
                owned_by=lambda person: Customer.objects.filter(owner=person),
                transfer=services.transfer_customers,
                order=10,
            )
        )
        register(
            NavEntry(
                key="customers",
                label=_("Customers"),
                url_name="customers:customer_list",
                icon="building",
                order=200,
                requires=("customer", "view"),
            )
        )
        register(
            NavEntry(
                key="access_requests",
                label=_("Access requests"),
                url_name="customers:access_request_list",
                icon="key",
                order=210,
                requires=("customer", "view"),
            )
        )

        # Customers and contacts in the global search; SQLite's search triggers after migrate.
        from . import search, search_index

        search.register()
        post_migrate.connect(search_index.on_post_migrate, sender=self)

        # The customer's own events on its timeline (lifecycle, owner, changes, contacts).
        from . import timeline

        timeline.register_sources()

        own_work = dict.fromkeys(
            (Action.VIEW, Action.CREATE, Action.EDIT, Action.DELETE, Action.EXPORT), Scope.OWN
        )
        team_work = {
            **dict.fromkeys(
                (Action.VIEW, Action.CREATE, Action.EDIT, Action.DELETE, Action.EXPORT),
                Scope.SUBTREE,
            ),
            Action.APPROVE: Scope.SUBTREE,
            Action.IMPORT: Scope.SUBTREE,
        }
        for record_type in ("customer", "contact"):
            defaults.extend(
                record_type,
                {
                    "boss": {
                        Action.VIEW: Scope.ALL,
                        Action.EXPORT: Scope.ALL,
                        Action.APPROVE: Scope.ALL,
                    },
                    "director": team_work,
                    "sales_manager": team_work,
                    "sales_rep": own_work,
                    "customer_service": {Action.VIEW: Scope.ALL, Action.EDIT: Scope.OWN},
                    "finance": {Action.VIEW: Scope.ALL},
                    "marketing": {Action.VIEW: Scope.OWN, Action.CREATE: Scope.OWN},
                },
            )
        everyone = {Action.VIEW: Scope.ALL, Action.CREATE: Scope.ALL}
        defaults.extend("tag", {key: everyone for key in defaults.ROLES if key != "administrator"})

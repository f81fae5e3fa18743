from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class ContractsConfig(AppConfig):
    name = "tuoke.contracts"
    label = "contracts"
    verbose_name = _("Contracts")

    def ready(self) -> None:
        from tuoke.core import services as core_services
        from tuoke.web.navigation import NavEntry, register

        from . import invoices, payments
        from .models import Invoice, Payment

        # Money comes back from the recycle bin only within the contract's amount.
        core_services.on_restore(Payment, payments.check_restore)
        core_services.on_restore(Invoice, invoices.check_restore)

        settings_section = _("Settings")
        for entry in (
            NavEntry(
                key="contracts",
                label=_("Contracts"),
                url_name="contracts:contract_list",
                icon="file-certificate",
                order=170,
                requires=("contract", "view"),
            ),
            NavEntry(
                key="payments",
                label=_("Payments"),
                url_name="contracts:payment_list",
                icon="cash",
                order=180,
                requires=("payment", "view"),
            ),
            NavEntry(
                key="invoices",
                label=_("Invoices"),
                url_name="contracts:invoice_list",
                icon="receipt",
                order=185,
                requires=("invoice", "view"),
            ),
            NavEntry(
                key="receivables",
                label=_("Receivables"),
                url_name="contracts:receivables",
                icon="report-money",
                order=270,
                requires=("contract", "view"),
            ),
            NavEntry(
                key="renewals",
                label=_("Renewals"),
                url_name="contracts:renewals",
                icon="refresh",
                order=275,
                requires=("contract", "view"),
            ),
            NavEntry(
                key="contract_settings",
                label=_("Contract settings"),
                url_name="contracts:settings",
                icon="file-settings",
                section=settings_section,
                order=972,
                requires=("contract", "administer"),
            ),
        ):
            register(entry)

        from . import hooks
        from .defaults import install_defaults

        hooks.install()
        # A fresh installation gets the usual approval flows for contracts to start with.
        post_migrate.connect(install_defaults, sender=self)

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntegrationsConfig(AppConfig):
    name = "tuoke.integrations"
    label = "integrations"
    verbose_name = _("Integrations")

    def ready(self) -> None:
        from tuoke.org import defaults

        # Administrators manage every unit's group robots and read the whole delivery log;
        # everybody manages his own channels and unit managers their units' robots without
        # any grant (tuoke.integrations.services.managed_units).
        defaults.extend("delivery_channel", {})

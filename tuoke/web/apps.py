from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebConfig(AppConfig):
    name = "tuoke.web"
    label = "web"
    verbose_name = _("Web shell")

    def ready(self) -> None:
        from .navigation import NavEntry, register

        register(NavEntry(key="home", label=_("Home"), url_name="home", icon="home", order=0))

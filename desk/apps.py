from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DeskConfig(AppConfig):
    name = "desk"
    verbose_name = _("Office desk")

    def ready(self):
        # Each area of the desk registers its message kinds (and more) in its own module.
        from desk import requests_setup

        requests_setup.setup()

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DeskConfig(AppConfig):
    name = "desk"
    verbose_name = _("Office desk")

    def ready(self):
        # Each area of the desk wires its signal receivers and message kinds in desk/<area>_setup.py.
        from desk import promises_setup

        promises_setup.setup()

        from desk import inbound_setup

        inbound_setup.setup()

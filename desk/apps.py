from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DeskConfig(AppConfig):
    name = "desk"
    verbose_name = _("Office desk")

    def ready(self):
        # Each area of the desk wires its signal receivers, message kinds and journal texts in desk/<area>_setup.py.
        from desk import contact_setup, feedback_setup, inbound_setup, promises_setup, requests_setup

        promises_setup.setup()
        inbound_setup.setup()
        feedback_setup.setup()
        requests_setup.setup()
        contact_setup.setup()

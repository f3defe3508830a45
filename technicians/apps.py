from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TechniciansConfig(AppConfig):
    """The technician's phone pages under /technician/: their day, a visit, the cards they print, and the
    calendar link their phone subscribes to (issued by the office in the admin).

    The rules they follow live in appointments/; this app only shows them.
    """

    name = "technicians"
    verbose_name = _("Technician pages")

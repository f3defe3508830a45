from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DispatchConfig(AppConfig):
    """The office's dispatch board under /board/: the technicians' days as a plan, re-planned by drag and drop.

    The rules live in appointments/ (planning, services); this app shows the plan and calls the services.
    """

    name = "dispatch"
    verbose_name = _("dispatch board")

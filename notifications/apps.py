from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = _("Notifications")

    def ready(self):
        # Connects the receiver of the mail providers' bounce and complaint reports.
        from notifications import webhooks  # noqa: F401

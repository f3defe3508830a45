from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = _("Notifications")

    def ready(self):
        # The journal shows the outbox's entries in the reader's language only as registered here.
        from notifications.journal_texts import register_journal_actions

        register_journal_actions()

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class JournalConfig(AppConfig):
    name = "journal"
    verbose_name = _("Contact journal")

    def ready(self):
        from journal.rendering import register_action

        # The office's own words, shown as typed in every language.
        register_action(
            "contact.recorded",
            label=_("contact recorded by the office"),
            render=lambda entry: entry.data["note"],
        )

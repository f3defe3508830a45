from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PrivacyConfig(AppConfig):
    """A customer's personal data as a whole: export it (GDPR Art. 15/20), erase it (Art. 17), and the
    retention jobs that delete what is no longer needed. Orchestration only: each app changes its own data
    through its own services."""

    name = "privacy"
    verbose_name = _("Personal data")

    def ready(self):
        from privacy.journal_texts import register_journal_actions

        register_journal_actions()

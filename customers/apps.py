from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomersConfig(AppConfig):
    name = "customers"
    verbose_name = _("Customers")

    def ready(self):
        # The journal shows this app's entries in the reader's language only as registered here.
        from customers.journal_texts import register_journal_actions

        register_journal_actions()

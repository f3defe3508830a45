from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AppointmentsConfig(AppConfig):
    name = "appointments"
    verbose_name = _("Appointments")

    def ready(self):
        # notifications/ renders and voids the mails this app queues only as registered here.
        from appointments.journal_texts import register_journal_actions
        from appointments.messages import register_message_kinds

        register_message_kinds()
        # The journal shows this app's entries in the reader's language only as registered here.
        register_journal_actions()

        # A change to the working hours, closures or the firm reaches the next page of every process.
        from appointments.plan_inputs import connect_signals

        connect_signals()

from django.apps import AppConfig


class SelfserviceConfig(AppConfig):
    """The customer's pages: booking and changing a visit from a link or a printed card.

    The rules they follow live in appointments/; this app only shows them.
    """

    name = "selfservice"

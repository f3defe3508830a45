from django.apps import AppConfig


class TechniciansConfig(AppConfig):
    """The technician's phone pages under /technician/: their day, a visit, the cards they print.

    The rules they follow live in appointments/; this app only shows them.
    """

    name = "technicians"

"""django-axes's app under a name the office understands. Its own module: a second AppConfig in accounts/apps.py
would leave Django unable to pick accounts' default config (and its ready() would never run)."""

from axes.apps import AppConfig as AxesConfig
from django.utils.translation import gettext_lazy as _


class SignInLockoutsConfig(AxesConfig):
    """Its admin section lists failed sign-ins and lockouts."""

    verbose_name = _("Failed sign-ins and lockouts")

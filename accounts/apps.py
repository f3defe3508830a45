from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Staff sign-in")

    def ready(self):
        from django.contrib.auth.signals import user_logged_in

        from accounts.lockout import forget_failures_on_sign_in
        from accounts.sessions import remember_generation

        user_logged_in.connect(remember_generation, dispatch_uid="accounts.remember_generation")
        user_logged_in.connect(forget_failures_on_sign_in, dispatch_uid="accounts.forget_failures_on_sign_in")

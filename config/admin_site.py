"""The office's admin site: for office staff only, never for technicians.

Technicians are staff users (their profile requires it), and Django's admin lets in every active staff
user. A technician in the admin would see an empty index at best; their pages are under /technician/.
"""

from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from accounts.access import second_factor_missing, second_factor_redirect
from customers.selectors import is_office_staff


def _is_technician(user) -> bool:
    return user.is_authenticated and user.is_staff and user.is_active and not is_office_staff(user)


class OfficeAuthenticationForm(AdminAuthenticationForm):
    error_messages = {
        **AdminAuthenticationForm.error_messages,
        "technician": _(
            "This sign-in is for the office. Technicians sign in on their phone at %(url)s with the same "
            "user name and password."
        ),
    }

    def confirm_login_allowed(self, user):
        super().confirm_login_allowed(user)
        if _is_technician(user):
            raise ValidationError(
                self.error_messages["technician"],
                code="technician",
                params={"url": self.request.build_absolute_uri(reverse("technician:login"))},
            )


class OfficeAdminSite(admin.AdminSite):
    login_form = OfficeAuthenticationForm
    login_template = "admin/office_login.html"

    def has_permission(self, request):
        # A password alone is not enough where two factors apply (accounts.access).
        return super().has_permission(request) and is_office_staff(request.user) and not second_factor_missing(request)

    def login(self, request, extra_context=None):
        if request.method == "GET" and second_factor_missing(request):
            # Signed in by password already: the code is what is missing, not the password.
            return second_factor_redirect(request, request.GET.get("next") or reverse("admin:index"))
        # A technician signed in on /technician/ shares the session: tell them where their pages are.
        context = {"technician_url": reverse("technician:day"), **(extra_context or {})}
        context["signed_in_technician"] = _is_technician(request.user)
        response = super().login(request, extra_context=context)
        if request.method == "POST" and response.status_code == 302 and second_factor_missing(request):
            return second_factor_redirect(request, response["Location"])
        return response

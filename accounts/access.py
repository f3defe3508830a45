"""Who must show a second factor before the office pages open, and where they go to do so.

Checked where office access is decided (the admin site's has_permission, dispatch.access.office_required,
the office's day-sheet view), so that a password alone never opens an office page when two factors apply.
Technicians never need one: their pages are their own, on a phone in a van.
"""

from functools import wraps

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode
from django_otp import user_has_device

from customers.selectors import is_office_staff


def two_factor_required(user) -> bool:
    """Superusers always; every office user when OFFICE_REQUIRE_2FA is on."""
    return is_office_staff(user) and (user.is_superuser or settings.OFFICE_REQUIRE_2FA)


def second_factor_missing(request) -> bool:
    """An office user signed in with a password only, who needs a code: required for them, or they set up an
    app of their own accord (then it is asked every time too)."""
    user = request.user
    if not (user.is_authenticated and is_office_staff(user)):
        return False
    # OTPMiddleware adds is_verified; a user just signed in by password (auth.login) has none: not verified.
    is_verified = getattr(user, "is_verified", None)
    if is_verified is not None and is_verified():
        return False
    return two_factor_required(user) or user_has_device(user)


def second_factor_redirect(request, next_url: str = ""):
    """To the code page, or to the set-up page for someone who has no app yet."""
    name = "accounts:verify" if user_has_device(request.user) else "accounts:setup"
    url = reverse(name)
    next_url = next_url or request.get_full_path()
    return redirect(f"{url}?{urlencode({'next': next_url})}")


def office_staff_required(view, *, second_factor: bool = True):
    """Signed-in office staff only; anyone else goes to the office's sign-in. Every office page also asks for the
    second factor where one applies; the sign-in steps themselves (`second_factor=False`) are where it is given."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not (request.user.is_authenticated and is_office_staff(request.user)):
            return redirect_to_login(request.get_full_path(), reverse("admin:login"))
        if second_factor and second_factor_missing(request):
            return second_factor_redirect(request)
        return view(request, *args, **kwargs)

    return wrapper

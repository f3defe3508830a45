"""Sign-in lockouts (django-axes): the page a locked-out sign-in gets (AXES_LOCKOUT_CALLABLE), whether one is
locked out at the code step, and forgetting the failures once a sign-in is complete."""

from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django_otp import user_has_device


def lockout_response(request, original_response=None, credentials=None):
    """Our own page (429) in the user's language: until when, and whom to ask."""
    # Every refused attempt during the lockout starts the wait again (AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT).
    until = timezone.localtime(timezone.now() + settings.AXES_COOLOFF_TIME)
    technician = request.path.startswith(reverse("technician:login"))
    context = {
        "until": until,
        "minutes": round(settings.AXES_COOLOFF_TIME.total_seconds() / 60),
        "technician": technician,
        "login_url": reverse("technician:login" if technician else "admin:login"),
    }
    if not technician:
        from django.contrib import admin

        context.update(admin.site.each_context(request))
    template = "accounts/lockout_technician.html" if technician else "accounts/lockout_office.html"
    return render(request, template, context, status=settings.AXES_HTTP_RESPONSE_CODE)


def is_locked_out(request, user) -> bool:
    """Whether `user` is locked out at this request's address (wrong passwords and wrong codes together)."""
    return not AxesProxyHandler.is_allowed(request, {"username": user.get_username()})


def forget_failures_on_sign_in(sender, request, user, **kwargs):
    """user_logged_in: a password alone completes the sign-in only where no code is asked; the code page and the
    set-up forget the failures themselves after the code (AXES_RESET_ON_SUCCESS is off)."""
    from accounts.access import two_factor_required
    from accounts.services import sign_in_succeeded

    if request is not None and not (two_factor_required(user) or user_has_device(user)):
        sign_in_succeeded(request=request, user=user)

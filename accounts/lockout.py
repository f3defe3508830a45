"""The page a locked-out sign-in gets (django-axes' AXES_LOCKOUT_CALLABLE)."""

from django.conf import settings
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone


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

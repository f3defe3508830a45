"""The board is the office's: signed-in office staff only, as the admin (technicians have /technician/)."""

from functools import wraps

from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.urls import reverse

from customers.selectors import is_office_staff


def office_required(view):
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not (request.user.is_authenticated and is_office_staff(request.user)):
            return redirect_to_login(request.get_full_path(), reverse("admin:login"))
        return view(request, *args, **kwargs)

    return wrapper


def office_context(request, **context):
    """The admin's own context (site header, user tools, theme), so the board looks like the rest of the office."""
    return {**admin.site.each_context(request), **context}

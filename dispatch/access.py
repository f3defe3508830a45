"""The board is the office's: signed-in office staff only, as the admin (technicians have /technician/)."""

from functools import wraps

from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.urls import reverse

from accounts.access import second_factor_missing, second_factor_redirect
from customers.selectors import is_office_staff


def office_required(view):
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not (request.user.is_authenticated and is_office_staff(request.user)):
            return redirect_to_login(request.get_full_path(), reverse("admin:login"))
        if second_factor_missing(request):
            return second_factor_redirect(request)
        return view(request, *args, **kwargs)

    return wrapper


def office_context(request, *, with_sidebar: bool = True, **context):
    """The admin's own context (site header, user tools, theme), so the board looks like the rest of the office.

    A page that leaves out the admin's sidebar (the day view, for its lanes' width) skips building the list
    of every app and model the sidebar shows: a few milliseconds on the office's most opened page.
    """
    site_context = admin.site.each_context(request) if with_sidebar else _without_sidebar(request)
    return {**site_context, **context}


def _without_sidebar(request) -> dict:
    site = admin.site
    return {
        "site_title": site.site_title,
        "site_header": site.site_header,
        "site_url": site.site_url,
        "has_permission": site.has_permission(request),
        "available_apps": [],
        "is_popup": False,
        "is_nav_sidebar_enabled": False,
        "log_entries": site.get_log_entries(request),
    }

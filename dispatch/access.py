"""The board is the office's: signed-in office staff only, as the admin (technicians have /technician/)."""

from django.contrib import admin

from accounts.access import office_staff_required


def office_required(view):
    """The board's and the desk's pages: office staff past the second factor, as every office page."""
    return office_staff_required(view)


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

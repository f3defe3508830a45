"""The pieces every page's frame repeats (favicon links, language switch), each rendered once per process and
language rather than once per request: on the customer's booking page the two includes cost ~0.7 ms of a page
budget of a few ms (issue #11).

What depends on the request (the CSRF token, the path the switch returns to) is put into the stored fragment
per request; everything else (the active language, the URLs, the static files' names) is part of the cache key
or cleared with the settings that decide it.
"""

from functools import cache

from django import template
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.template.loader import get_template, render_to_string
from django.urls import get_script_prefix, get_urlconf
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

register = template.Library()

# Placeholders that HTML escaping leaves alone and no URL or token contains.
_PATH = "__doorstep_path__"
_CSRF = "__doorstep_csrf__"


class _Request:
    path = _PATH


@cache
def _favicon(language: str, script_prefix: str, urlconf) -> str:
    return render_to_string("_favicon.html")


@cache
def _language_switch(language: str, form_class: str, script_prefix: str, urlconf) -> str:
    return get_template("_language_switch.html").render(
        {"form_class": form_class, "request": _Request(), "csrf_token": _CSRF}
    )


@receiver(setting_changed)
def _forget(**kwargs):
    # Languages, URLs, static storage: tests change them; a running site does not.
    _favicon.cache_clear()
    _language_switch.cache_clear()


@register.simple_tag
def favicon():
    """_favicon.html."""
    return mark_safe(_favicon(get_language(), get_script_prefix(), get_urlconf()))


@register.simple_tag(takes_context=True)
def language_switch(context, form_class: str):
    """_language_switch.html with form_class, for the current language, request path and CSRF token."""
    token = context.get("csrf_token")
    request = context.get("request")
    if not token or token == "NOTPROVIDED" or request is None:
        # Without a token {% csrf_token %} leaves the field out (and warns in DEBUG): the rare page
        # rendered without a request renders the switch as it always did.
        return get_template("_language_switch.html").render(context.flatten() | {"form_class": form_class})
    html = _language_switch(get_language(), form_class, get_script_prefix(), get_urlconf())
    return mark_safe(html.replace(_CSRF, escape(token), 1).replace(_PATH, escape(request.path), 1))

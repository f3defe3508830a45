"""Errors to Sentry (settings.SENTRY_DSN), with nothing personal in them.

Sentry's own switch (send_default_pii=False) keeps out users, cookies and IP addresses, but not request
bodies, query strings, local variables or the text of messages. A customer's name, email address and phone
number reach those easily (a form that failed, a log line about a mail), and the links we send hold their
secret in the path. So: no bodies, no local variables, and `scrub_event` removes query strings, replaces a
URL's secret parts with their names and blanks email addresses, phone numbers and token-like strings in
every text of the event that is not code.
"""

import re
from typing import Any

# Stack frames' code and the SDK's own facts: not data, and mangling them would hide where an error is.
CODE_KEYS = frozenset(
    {"abs_path", "filename", "module", "function", "package", "context_line", "pre_context", "post_context"}
)
DROPPED_REQUEST_KEYS = ("data", "cookies", "query_string", "env")
DROPPED_HEADERS = frozenset({"cookie", "authorization", "x-forwarded-for", "x-real-ip", "forwarded"})

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# +49 151 2345678, 06 28471937, 030/1234567: a "+" or a leading 0, then at least six more digits.
PHONE = re.compile(r"(?<![\w+])(?:\+|0)\d(?:[ ./()-]?\d){5,}")
# secrets.token_urlsafe() and Django's signed values: long runs of base64 with digits and capitals.
TOKEN = re.compile(r"(?<![\w-])(?=[\w:-]*\d)(?=[\w:-]*[A-Z])[\w-]{16,}(?::[\w-]+)*")
# A URL or a path on its own, with its query string.
URL_PATH = re.compile(
    r"(?P<origin>https?://[^/\s\"'<>?#]+)?(?(origin)|(?<![\w.:/]))(?P<path>/[^\s?#\"'<>]*)(?P<query>\?[^\s#\"'<>]*)?"
)


def _path_without_secrets(match: re.Match) -> str:
    """/booking/l/<token>/ for /booking/l/WzEs…/?x=1: the values a URL pattern captures, named; ids kept."""
    return (match.group("origin") or "") + _route(match.group("path"))


def _route(path: str) -> str:
    from django.apps import apps
    from django.urls import Resolver404, resolve

    # gunicorn's master logs through the same formatter but never loads Django; the URLconf needs the apps.
    if not apps.ready:
        return path
    try:
        resolved = resolve(path)
    except (Resolver404, ValueError):
        return path
    for name, value in resolved.kwargs.items():
        text = str(value)
        if text and not text.isdigit():
            path = path.replace(text, f"<{name}>")
    return path


def scrub_text(text: str) -> str:
    text = URL_PATH.sub(_path_without_secrets, text)
    text = EMAIL.sub("[email]", text)
    text = PHONE.sub("[phone]", text)
    return TOKEN.sub("[token]", text)


def scrub_value(value: Any, *, code_keys: frozenset[str] = frozenset()) -> Any:
    """`value` with every text in it scrubbed, however deep; what dicts hold under `code_keys` is kept."""
    if isinstance(value, str):
        return scrub_text(value)
    if isinstance(value, dict):
        return {
            key: item if key in code_keys else scrub_value(item, code_keys=code_keys) for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [scrub_value(item, code_keys=code_keys) for item in value]
    return value


def scrub_event(event: dict, hint: dict | None = None) -> dict:
    """Sentry's before_send: the event without request bodies, cookies, query strings or personal text."""
    event.pop("user", None)
    request = event.get("request")
    if isinstance(request, dict):
        for key in DROPPED_REQUEST_KEYS:
            request.pop(key, None)
        if isinstance(request.get("headers"), dict):
            request["headers"] = {
                name: value for name, value in request["headers"].items() if name.lower() not in DROPPED_HEADERS
            }
    return scrub_value(event, code_keys=CODE_KEYS)


def init_sentry(*, dsn: str, environment: str, release: str | None, **options) -> None:
    """Sentry for the web process, worker and beat (each loads settings); `options` are for tests (transport)."""
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        release=release,
        integrations=[DjangoIntegration(), CeleryIntegration()],
        send_default_pii=False,
        include_local_variables=False,
        max_request_body_size="never",
        before_send=scrub_event,
        **options,
    )

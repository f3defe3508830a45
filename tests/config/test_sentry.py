"""Errors reach Sentry only when SENTRY_DSN is set, and nothing personal goes with them."""

import json

from django.urls import reverse

from appointments.links import appointment_token
from config.logging_sentry import scrub_event
from tests.config.test_settings import PRODUCTION_ENV, run_python

EMAIL = "anna.schmitz@example.com"
PHONE = "+49 2821 1234567"
DUTCH_PHONE = "06 28471937"
# The shape of a booking link's token (appointments.links: a signed [pk, nonce]).
TOKEN = "WzQyLCJub25jZS1Bbm5hIl0:1tQfXz:Q8rVb7Jm2kLpZx0aN3cYdE5fGhIjKl"


def test_the_hook_scrubs_addresses_phone_numbers_tokens_bodies_and_cookies():
    link = f"https://doorstep.example.com{reverse('selfservice:open', args=[TOKEN])}"
    event = {
        "message": f"Mail to {EMAIL} failed, link {link}",
        "logentry": {"message": "Customer %s, phone %s", "params": [EMAIL, DUTCH_PHONE]},
        "exception": {
            "values": [
                {
                    "type": "ValueError",
                    "value": f"bad phone {PHONE}",
                    "stacktrace": {"frames": [{"filename": "selfservice/views.py", "function": "open_link"}]},
                }
            ]
        },
        "request": {
            "url": link,
            "query_string": f"token={TOKEN}",
            "data": {"email": EMAIL},
            "cookies": {"sessionid": "abc"},
            "headers": {"Cookie": "sessionid=abc", "Referer": link, "User-Agent": "Firefox"},
        },
        "breadcrumbs": {"values": [{"message": f"GET /request/thanks/{TOKEN}/?x=1", "category": "log"}]},
        "user": {"email": EMAIL},
    }

    scrubbed = scrub_event(event, {})

    text = json.dumps(scrubbed)
    for secret in (EMAIL, PHONE, DUTCH_PHONE, TOKEN, "sessionid", "1234567", "28471937"):
        assert secret not in text
    assert scrubbed["request"]["url"] == "https://doorstep.example.com/booking/l/<token>/"
    assert scrubbed["request"]["headers"] == {
        "Referer": "https://doorstep.example.com/booking/l/<token>/",
        "User-Agent": "Firefox",
    }
    assert scrubbed["message"] == "Mail to [email] failed, link https://doorstep.example.com/booking/l/<token>/"
    assert scrubbed["logentry"]["params"] == ["[email]", "[phone]"]
    assert scrubbed["exception"]["values"][0]["value"] == "bad phone [phone]"
    assert scrubbed["exception"]["values"][0]["stacktrace"]["frames"][0]["function"] == "open_link"
    assert scrubbed["breadcrumbs"]["values"][0]["message"] == "GET /request/thanks/<token>/"


def test_ids_dates_and_names_of_code_survive_the_hook():
    event = {"message": "Appointment 4711 at 2026-11-30 10:00 failed in appointment_reschedule: AppointmentError"}

    assert scrub_event(event, {}) == event


def test_without_a_dsn_nothing_initialises():
    result = run_python(
        "import django; django.setup(); import sentry_sdk; print(sentry_sdk.get_client().is_active())", PRODUCTION_ENV
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


SEND_AN_ERROR = """
import django, logging, sentry_sdk
from sentry_sdk.transport import Transport
django.setup()
from appointments.links import appointment_token

class Kept(Transport):
    events = []
    def capture_envelope(self, envelope):
        if envelope.get_event() is not None:
            self.events.append(envelope.get_event())

options = sentry_sdk.get_client().options
print(options["environment"], options["release"], options["send_default_pii"], options["include_local_variables"])
print(sorted(name for name in sentry_sdk.get_client().integrations if name in ("django", "celery")))
from config.logging_sentry import init_sentry
init_sentry(dsn=options["dsn"], environment="test", release="1", transport=Kept)
logging.getLogger("notifications.mail").error(
    "Mail to %s failed: %s", "anna.schmitz@example.com", "https://doorstep.example.com/booking/l/TOKEN/"
)
sentry_sdk.flush()
import json
print(json.dumps(Kept.events))
"""


def test_with_a_dsn_errors_go_to_sentry_scrubbed_with_environment_and_release():
    result = run_python(
        SEND_AN_ERROR.replace("TOKEN", TOKEN),
        {
            **PRODUCTION_ENV,
            "SENTRY_DSN": "https://public@sentry.invalid/1",
            "SENTRY_ENVIRONMENT": "staging",
            "SENTRY_RELEASE": "doorstep@2026.11",
        },
    )

    assert result.returncode == 0, result.stderr
    settings_line, integrations, events = result.stdout.splitlines()
    assert settings_line == "staging doorstep@2026.11 False False"
    assert integrations == "['celery', 'django']"
    (event,) = json.loads(events)
    assert event["logentry"]["params"] == ["[email]", "https://doorstep.example.com/booking/l/<token>/"]
    assert EMAIL not in events and TOKEN not in events


def test_a_real_link_token_is_caught_by_the_token_pattern_too(db):
    from tests.factories import AppointmentFactory

    token = appointment_token(AppointmentFactory())

    assert token not in json.dumps(scrub_event({"message": f"token {token} refused"}, {}))

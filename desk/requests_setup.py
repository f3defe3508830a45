"""What the mails and journal entries about website requests say; registered from DeskConfig.ready()."""

from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from appointments.formatting import format_day, format_time
from customers.models import Firm
from customers.selectors import office_person_contact
from desk.models import RequestStatus, WebRequest
from desk.requests import call_changeable, call_outside_reach, request_link
from journal.rendering import register_action
from notifications.models import MessageKind, OutboxMessage
from notifications.registry import register_kind
from notifications.superseded import superseded_reason


def request_message_context(message: OutboxMessage) -> dict:
    """Who calls when, as it stands at send time (a call moved meanwhile: the mail names the new time).

    The contact named is the promise's owner, who makes the call; called in the message's language.
    """
    web_request = (
        WebRequest.objects.select_related("promise__owner__office_profile", "promise__owner__technician")
        .filter(pk=message.context.get("request_id"))
        .first()
    )
    if web_request is None or web_request.promise is None:
        return {}
    promise = web_request.promise
    owner = office_person_contact(promise.owner, firm=Firm.objects.first())
    return {
        "responsible": owner,
        "owner": owner,
        "call_day": format_day(promise.due_at),
        "call_time": format_time(promise.due_at),
        "about": web_request.about,
        "reachable": web_request.get_reachable_display(),
        "reachable_note": web_request.reachable_note,
        "email_instead": web_request.status == RequestStatus.EMAIL_INSTEAD,
        "outside_reach": call_outside_reach(web_request),
        "change_link": request_link(web_request) if call_changeable(web_request, now=timezone.now()) else "",
    }


def _still_true(message: OutboxMessage, **kwargs) -> str:
    # The context is read when the mail goes out, so it always names the current call time.
    return ""


def _call_change_still_true(message: OutboxMessage, **kwargs) -> str:
    """A move mail is about one new promise: moved again or turned into "email instead" since, the mail
    for that change (queued after this one, or none for email) is the one the customer should read."""
    current = WebRequest.objects.filter(pk=message.context.get("request_id")).values_list("promise_id", flat=True)
    if current.first() != message.context.get("promise_id"):
        return superseded_reason("changed_again")
    return ""


# The journal's sentences, from each entry's data in the reader's language (no queries) ----------------


def _quoted(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= 200 else text[:199] + "…"


def _received(entry) -> str:
    text = _("Request from the website: %(about)s") % {"about": _quoted(entry.data["about"])}
    if entry.data.get("possible_duplicate_of_id"):
        text += " " + _("Possible duplicate of customer no. %(id)s: please check.") % {
            "id": entry.data["possible_duplicate_of_id"]
        }
    return text


def _call_moved(entry) -> str:
    due = datetime.fromisoformat(entry.data["due_at"])
    return _("The customer moved the call to %(day)s, %(time)s.") % {"day": format_day(due), "time": format_time(due)}


def _email_instead(entry) -> str:
    return _("The customer asked for an answer by email to %(email)s instead of a call.") % {
        "email": entry.data["email"]
    }


def setup() -> None:
    register_kind(MessageKind.REQUEST_REPLY, context=request_message_context, stale_reason=_still_true)
    register_kind(MessageKind.CALL_TIME_CHANGED, context=request_message_context, stale_reason=_call_change_still_true)
    register_action("request.received", label=gettext_lazy("request from the website"), render=_received)
    register_action("request.call_moved", label=gettext_lazy("call moved by the customer"), render=_call_moved)
    register_action(
        "request.email_instead", label=gettext_lazy("answer by email instead of a call"), render=_email_instead
    )

"""What the mails about website requests say; registered with the outbox from DeskConfig.ready()."""

from django.utils import timezone

from appointments.formatting import format_day, format_time
from customers.models import Firm
from desk.models import RequestStatus, WebRequest
from desk.requests import call_changeable, office_person_contact, request_link
from notifications.models import MessageKind, OutboxMessage
from notifications.registry import register_kind


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
        "change_link": request_link(web_request) if call_changeable(web_request, now=timezone.now()) else "",
    }


def _still_true(message: OutboxMessage, **kwargs) -> str:
    # The context is read when the mail goes out, so it always names the current call time.
    return ""


def setup() -> None:
    for kind in (MessageKind.REQUEST_REPLY, MessageKind.CALL_TIME_CHANGED):
        register_kind(kind, context=request_message_context, stale_reason=_still_true)

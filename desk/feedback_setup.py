"""What the feedback mails say and when one queued earlier is no longer true (run from DeskConfig.ready()).

feedback_request: "how did we do?" with the link, for one completed visit. feedback_ack: received, who
answers and by when. feedback_reply: the office's answer. The acknowledgement and the reply name the
feedback's owner as the contact person (full name, direct phone, email; Reply-To goes to them).
"""

from datetime import datetime

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from appointments.formatting import format_day, format_short_day, format_time
from appointments.models import AppointmentStatus
from customers.models import Customer, Firm
from customers.selectors import office_person_contact
from desk.models.feedback import FeedbackChannel
from notifications.models import MessageKind, OutboxMessage
from notifications.registry import register_kind
from notifications.rendering import single_line
from notifications.superseded import superseded_reason


def feedback_link(request) -> str:
    from desk.services.feedback import feedback_request_token

    return settings.SITE_URL + reverse("feedback:open", args=[feedback_request_token(request)])


def _visit(appointment, language: str) -> dict:
    if appointment is None:
        return {"service": "", "visit_day": "", "reference": ""}
    return {
        "service": appointment.service_type.localized_name(language),
        "visit_day": format_day(appointment.completed_at or appointment.window_start),
        "reference": f"D-{appointment.pk}",
    }


def request_context(message: OutboxMessage) -> dict:
    from desk.models import FeedbackRequest

    request = FeedbackRequest.objects.filter(appointment_id=message.appointment_id).first()
    appointment = message.appointment
    context = _visit(appointment, message.language)
    technician = appointment.technician if appointment is not None else None
    context.update(
        {
            "technician_name": single_line(technician.display_name) if technician else "",
            "feedback_link": feedback_link(request) if request is not None else "",
        }
    )
    return context


def request_stale_reason(message: OutboxMessage, *, now) -> str:
    """A visit no longer completed (corrected since), or a customer who has since said "don't ask me"."""
    appointment = message.appointment
    if appointment is not None:
        appointment.refresh_from_db(fields=["status"])
        if appointment.status != AppointmentStatus.COMPLETED:
            return superseded_reason("status", status=appointment.status)
    if not Customer.objects.filter(pk=message.customer_id, feedback_requests=True).exists():
        return superseded_reason("feedback_opted_out")
    return ""


def _feedback_of(message: OutboxMessage):
    from desk.models import Feedback

    return (
        Feedback.objects.select_related("owner__office_profile", "owner__technician", "appointment__service_type")
        .filter(pk=message.context.get("feedback_id"))
        .first()
    )


def _owner_context(message: OutboxMessage, feedback) -> dict:
    owner = office_person_contact(feedback.owner if feedback else None, firm=Firm.objects.first())
    # "responsible" is what every mail names as the contact person and replies go to: here, the owner.
    return {"owner": owner, "responsible": owner}


def ack_context(message: OutboxMessage) -> dict:
    feedback = _feedback_of(message)
    if feedback is None:
        return {}
    return {
        **_visit(feedback.appointment, message.language),
        **_owner_context(message, feedback),
        "rating": feedback.rating,
        "comment": feedback.comment,
        "due_day": format_day(feedback.reply_due_at),
        "due_time": format_time(feedback.reply_due_at),
        "received_day": format_day(feedback.received_at),
    }


def reply_context(message: OutboxMessage) -> dict:
    feedback = _feedback_of(message)
    if feedback is None:
        return {}
    return {
        **_visit(feedback.appointment, message.language),
        **_owner_context(message, feedback),
        "reply_text": feedback.reply_text,
        "received_day": format_day(feedback.received_at),
    }


def always_true(message: OutboxMessage, *, now) -> str:
    # An acknowledgement or a reply stays true: what was received, and what the office answered.
    return ""


# The journal's sentences for feedback, in the reader's language (journal.rendering, fix/journal-render).


def render_received(entry) -> str:
    data = entry.data
    text = _("Feedback by %(channel)s, owner %(owner)s, reply due %(due)s.") % {
        "channel": FeedbackChannel(data["channel"]).label,
        "owner": data["owner_name"],
        "due": format_short_day(datetime.fromisoformat(data["due_at"])),
    }
    if data.get("rating"):
        text = f"{text} {data['rating']}/5"
    return f"{text} {data['comment']}".strip() if data.get("comment") else text


def render_replied(entry) -> str:
    if entry.data["in_time"]:
        return _("Feedback answered by email, within the deadline.")
    return _("Feedback answered by email, after the deadline.")


def render_closed(entry) -> str:
    if entry.data.get("late"):
        return _("Feedback closed without reply, after the deadline: %(reason)s") % {"reason": entry.data["reason"]}
    return _("Feedback closed without reply: %(reason)s") % {"reason": entry.data["reason"]}


def _register_journal_renderers() -> None:
    try:
        from journal.rendering import register_action
    except ImportError:
        # Before the journal's renderer registry is merged: entries show their stored summary.
        return
    register_action("feedback.received", label=gettext_lazy("feedback received"), render=render_received)
    register_action("feedback.replied", label=gettext_lazy("feedback answered"), render=render_replied)
    register_action("feedback.closed", label=gettext_lazy("feedback closed without reply"), render=render_closed)


def answer_feedback_kept_by_contact(sender, instance, created, update_fields=None, **kwargs):
    """A reply-to-feedback promise kept (by any contact) answers its feedback (desk.services.feedback)."""
    from desk.models import PromiseKind, PromiseState
    from desk.services.feedback import feedback_answered_by_contact

    if instance.kind == PromiseKind.REPLY_FEEDBACK and instance.state == PromiseState.DONE:
        feedback_answered_by_contact(promise=instance)


def renew_voided_reply_promise(sender, instance, created, update_fields=None, **kwargs):
    """A reply-to-feedback promise voided (not by closing its feedback) leaves no feedback awaiting in silence."""
    from desk.models import PromiseKind, PromiseState
    from desk.services.feedback import feedback_reply_promise_voided

    if instance.kind == PromiseKind.REPLY_FEEDBACK and instance.state == PromiseState.VOIDED:
        feedback_reply_promise_voided(promise=instance)


def setup() -> None:
    from django.db.models.signals import post_save

    from desk.models import Promise

    post_save.connect(
        answer_feedback_kept_by_contact, sender=Promise, dispatch_uid="desk.feedback.answer_kept_by_contact"
    )
    post_save.connect(
        renew_voided_reply_promise, sender=Promise, dispatch_uid="desk.feedback.renew_voided_reply_promise"
    )
    _register_journal_renderers()
    register_kind(
        MessageKind.FEEDBACK_REQUEST,
        context=request_context,
        stale_reason=request_stale_reason,
        select_related=("appointment__service_type", "appointment__technician"),
    )
    register_kind(MessageKind.FEEDBACK_ACK, context=ack_context, stale_reason=always_true)
    register_kind(MessageKind.FEEDBACK_REPLY, context=reply_context, stale_reason=always_true)

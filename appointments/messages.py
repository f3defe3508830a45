"""What the mails about visits and invitations say, and when one queued earlier is no longer true.

notifications/ sends them but knows nothing of visits: `register_message_kinds` (run from
AppointmentsConfig.ready()) tells its registry, for each kind this app queues, the template's data,
the calendar file, the joins a delivery batch needs, and the staleness rules by visit status.
"""

from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.db.models import Exists, OuterRef, Q
from django.template.loader import render_to_string
from django.utils import formats, timezone

from appointments.cutoff import online_change_context
from appointments.formatting import format_day, format_time, format_window
from appointments.links import absolute_link, appointment_token, invitation_token
from appointments.models import Appointment, AppointmentStatus, VisitAttempt
from journal.models import JournalEntry
from notifications.calendar import METHOD_CANCEL, METHOD_REQUEST, render_ics
from notifications.models import MessageKind, OutboxMessage
from notifications.registry import Attachment, register_kind, register_reason_labels
from notifications.rendering import single_line
from notifications.services import STALE_NEW_TIME_REQUESTED, reminder_due_at
from notifications.superseded import superseded_reason

# The template data ------------------------------------------------------------------


def invitation_context(message: OutboxMessage) -> dict:
    invitation = message.invitation
    if invitation is None:
        return {}
    return {
        "service": invitation.service_type.localized_name(message.language),
        "personal_note": single_line(invitation.message),
        "booking_link": absolute_link(invitation_token(invitation)),
        "valid_until": formats.date_format(timezone.localtime(invitation.expires_at), "DATE_FORMAT"),
    }


def _previous_window(previous: dict, appointment: Appointment) -> str:
    """The window a change replaced, or "" where it did not replace it: a move to another technician
    inside the same window (the board's lanes) keeps the time, and the mail must not cross it out."""
    if not previous.get("window_start"):
        return ""
    start = timezone.datetime.fromisoformat(previous["window_start"])
    end = timezone.datetime.fromisoformat(previous["window_end"])
    if (start, end) == (appointment.window_start, appointment.window_end):
        return ""
    return format_window(start, end)


def visit_context(message: OutboxMessage, *, manage_link: bool = True) -> dict:
    """The visit as it is now, and the time it had when the message was queued (a change names both)."""
    appointment = message.appointment
    if appointment is None:
        return {}
    previous = message.context.get("previous") or {}
    context = {
        "reference": f"D-{appointment.pk}",
        "service": appointment.service_type.localized_name(message.language),
        "technician_name": single_line(appointment.technician.display_name if appointment.technician else ""),
        "window": format_window(appointment.window_start, appointment.window_end),
        "site_address": single_line(appointment.site_address),
        "previous_window": _previous_window(previous, appointment),
        "previous_technician_name": message.context.get("previous_technician_name", ""),
        # A request for a new time says why, in the office's words as they were when it was sent.
        "new_time_reason": message.context.get("reason", ""),
        # Made at send time from the current state: it works until the visit changes again.
        "manage_link": absolute_link(appointment_token(appointment)) if manage_link else "",
    }
    if context["manage_link"]:
        context.update(online_change_context(appointment))
    return context


def on_my_way_context(message: OutboxMessage) -> dict:
    # Not while the technician is on the way: there is nothing left to change online.
    context = visit_context(message, manage_link=False)
    if message.appointment is not None:
        expected = message.context.get("expected_arrival")
        # "" when the technician gave no time: the mail then names the booked window.
        context["expected_arrival"] = format_time(timezone.datetime.fromisoformat(expected)) if expected else ""
    return context


def missed_visit_context(message: OutboxMessage) -> dict:
    """The facts of the attempt at the door, as the technician recorded them."""
    context = visit_context(message)
    appointment = message.appointment
    if appointment is None:
        return context
    attempt = (
        VisitAttempt.objects.select_related("technician").filter(pk=message.context.get("attempt_id")).first()
        if message.context.get("attempt_id")
        else None
    )
    at = attempt.at if attempt else appointment.missed_at
    technician = attempt.technician if attempt else appointment.technician
    context.update(
        {
            "technician_name": single_line(technician.display_name if technician else ""),
            "attempt_day": format_day(at) if at else "",
            "attempt_time": format_time(at) if at else "",
            "waited_minutes": attempt.waited_minutes if attempt else 0,
            "card_left": attempt.card_left if attempt else False,
        }
    )
    if attempt:
        # The window the visit was booked for, as the attempt recorded it.
        context["window"] = format_window(attempt.window_start, attempt.window_end)
    return context


# The calendar file --------------------------------------------------------------------

ICS_METHODS = {
    MessageKind.CONFIRMATION: METHOD_REQUEST,
    MessageKind.CHANGE: METHOD_REQUEST,
    MessageKind.CANCELLATION: METHOD_CANCEL,
}


def calendar_attachments(message: OutboxMessage, context: dict) -> list[Attachment]:
    """The .ics that puts the visit in the customer's calendar, moves it, or takes it out."""
    if message.appointment is None:
        return []
    method = ICS_METHODS[message.kind]
    ics = render_ics(
        appointment=message.appointment,
        method=method,
        summary=f"{context['service']} – {context['firm']['name']}".strip(" –"),
        description=render_to_string("emails/calendar_description.txt", context).strip(),
        location=context["site_address"],
        language=message.language,
    )
    return [
        Attachment(
            content=ics,
            maintype="text",
            subtype="calendar",
            params={"method": method, "charset": "utf-8"},
            filename="cancel.ics" if method == METHOD_CANCEL else "invite.ics",
        )
    ]


# Still true? -------------------------------------------------------------------------------

# Statuses in which a message about an appointment is still true.
STILL_TRUE_WHEN = {
    MessageKind.CONFIRMATION: {AppointmentStatus.SCHEDULED, AppointmentStatus.EN_ROUTE, AppointmentStatus.ON_SITE},
    MessageKind.CHANGE: {AppointmentStatus.SCHEDULED, AppointmentStatus.EN_ROUTE, AppointmentStatus.ON_SITE},
    MessageKind.REMINDER: {AppointmentStatus.SCHEDULED},
    MessageKind.CANCELLATION: {AppointmentStatus.CANCELLED},
    MessageKind.RESCHEDULE_REQUEST: {AppointmentStatus.NEW_TIME},
    MessageKind.ON_MY_WAY: {AppointmentStatus.EN_ROUTE},
    MessageKind.MISSED_VISIT: {AppointmentStatus.MISSED},
}


def invitation_stale_reason(message: OutboxMessage, *, now: datetime) -> str:
    invitation = message.invitation
    if invitation is None:
        return ""
    # Re-read: the batch was read before the mails ahead of this one went out. (Outbox rows protect it.)
    invitation.refresh_from_db(fields=["appointment", "expires_at"])
    if invitation.appointment_id is not None:
        return superseded_reason("booked")
    if invitation.expires_at <= now:
        return superseded_reason("invitation_expired")
    return ""


def visit_stale_reason(message: OutboxMessage, *, now: datetime) -> str:
    """Why this mail about a visit must not go out any more (a code, see notifications.superseded), or ""."""
    appointment = message.appointment
    if appointment is None:
        return ""
    # Re-read: a visit moved or cancelled since the batch was read must not get the old mail.
    appointment.refresh_from_db(fields=["status", "version", "window_start", "window_end"])
    if appointment.status == AppointmentStatus.NEW_TIME and message.kind != MessageKind.RESCHEDULE_REQUEST:
        return STALE_NEW_TIME_REQUESTED
    if appointment.version != message.appointment_version:
        return superseded_reason("version", current=appointment.version, queued=message.appointment_version)
    if appointment.status not in STILL_TRUE_WHEN[message.kind]:
        return superseded_reason("status", status=appointment.status)
    if message.kind == MessageKind.REMINDER and appointment.window_start <= now:
        return superseded_reason("started")
    if message.kind == MessageKind.MISSED_VISIT and not appointment.awaits_rebooking():
        return superseded_reason("rebooked")
    if message.kind in (MessageKind.CANCELLATION, MessageKind.CONFIRMATION, MessageKind.CHANGE) and (
        appointment.window_end <= now
    ):
        return superseded_reason("passed")
    return ""


# Reminders ------------------------------------------------------------------------------


def reminders_due(now: datetime):
    """Every scheduled visit whose reminder is due at `now` and not yet queued for its current version.

    Nothing waits in a queue for days: the sweep re-reads status and version each time, so a cancelled
    visit never gets one and a moved visit gets one for its new window.
    """
    # Day-before reminders are due at most ~2 days ahead (the day before, any hour).
    horizon = now + timedelta(days=2, hours=settings.REMINDER_HOURS_BEFORE or 0)
    already_queued = OutboxMessage.objects.filter(
        appointment=OuterRef("pk"), kind=MessageKind.REMINDER, appointment_version=OuterRef("version")
    )
    # A customer without an email address gets no outbox row, only a journal note; without this the
    # sweep would write that note again every five minutes into the append-only journal. Once the
    # office adds an address, the reminder goes out after all.
    already_noted = JournalEntry.objects.filter(
        appointment=OuterRef("pk"), action=f"message.{MessageKind.REMINDER}.no_email"
    )
    candidates = (
        Appointment.objects.filter(status=AppointmentStatus.SCHEDULED, window_start__gt=now, window_start__lte=horizon)
        .exclude(Exists(already_queued))
        .exclude(Exists(already_noted) & Q(customer__email=""))
        .select_related("customer")
        .order_by("window_start")
    )
    return (
        appointment for appointment in candidates.iterator(chunk_size=500) if reminder_is_due(appointment, now=now)
    )


def reminder_is_due(appointment: Appointment, *, now: datetime) -> bool:
    due = reminder_due_at(appointment.window_start)
    if due is None or due > now:
        return False
    # Booked or moved after the reminder time: the confirmation just sent is the reminder.
    return not (appointment.scheduled_at and appointment.scheduled_at > due)


# Registration ---------------------------------------------------------------------------

VISIT_JOINS = ("appointment__service_type", "appointment__technician")


def register_message_kinds() -> None:
    visit = partial(register_kind, stale_reason=visit_stale_reason, select_related=VISIT_JOINS)
    visit(MessageKind.CONFIRMATION, context=visit_context, attachments=calendar_attachments)
    visit(MessageKind.CHANGE, context=visit_context, attachments=calendar_attachments)
    # A cancelled visit has nothing left to change online.
    visit(
        MessageKind.CANCELLATION, context=partial(visit_context, manage_link=False), attachments=calendar_attachments
    )
    visit(MessageKind.REMINDER, context=visit_context, due=reminders_due)
    visit(MessageKind.RESCHEDULE_REQUEST, context=visit_context)
    visit(MessageKind.ON_MY_WAY, context=on_my_way_context)
    visit(MessageKind.MISSED_VISIT, context=missed_visit_context)
    register_kind(
        MessageKind.INVITATION,
        context=invitation_context,
        stale_reason=invitation_stale_reason,
        select_related=("invitation__service_type",),
    )
    # "Not sent: the appointment is now “cancelled”" names the status by its label, in the office's language.
    register_reason_labels("status", dict(AppointmentStatus.choices))

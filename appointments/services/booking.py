"""Self-service: invitations to book, and what customers do from the links in their mails.

The customer acts without an account, so these services take no actor; the
journal records the web channel and the customer as the one who acted.
"""

import secrets
from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from appointments.availability import Window, window_is_offered
from appointments.cutoff import changeable_online, deadline_text
from appointments.formatting import format_day, format_window
from appointments.journal_texts import INVITATION_WITHDRAWN
from appointments.models import (
    ACTIVE_STATUSES,
    Appointment,
    AppointmentStatus,
    BookingInvitation,
    ServiceType,
    Technician,
    local_midnight,
)
from appointments.services import (
    AppointmentError,
    _transition,
    appointment_cancel,
    appointment_reschedule,
    appointment_schedule,
    appointment_update_details,
    invitation_close,
)
from appointments.services.rules import service_type_names
from customers.models import Customer
from journal.models import Channel
from journal.services import journal_record, recorded_actor
from notifications.models import MessageKind
from notifications.services import STALE_NEW_TIME_REQUESTED, message_queue, messages_supersede_queued

INVITATION_VALID_FOR = timedelta(days=30)
# What a technician offered a moment ago may answer once another customer took their last slot.
TAKEN_MEANWHILE = frozenset({"overlap", "time_off", "outside_hours"})
NOTE_MAX_LENGTH = 500


def _window_taken() -> AppointmentError:
    return AppointmentError(_("This window was just taken. Please choose another one."), code="window_taken")


def technicians_by_load(window: Window, *, prefer: Technician | None = None) -> list[Technician]:
    """The technicians free in `window`, fewest visits that day first (`prefer` first if free)."""
    day = timezone.localdate(window.start)
    technicians = list(
        Technician.objects.filter(pk__in=window.technician_ids)
        .annotate(
            visits=Count(
                "appointments",
                filter=Q(
                    appointments__status__in=ACTIVE_STATUSES,
                    appointments__window_start__gte=local_midnight(day),
                    appointments__window_start__lt=local_midnight(day + timedelta(days=1)),
                ),
            )
        )
        .order_by("visits", "pk")
    )
    if prefer is not None and prefer.pk in window.technician_ids:
        technicians.sort(key=lambda technician: technician.pk != prefer.pk)
    return technicians


def _with_first_free_technician[T](window: Window, prefer: Technician | None, book: Callable[[Technician], T]) -> T:
    """`book(technician)` with the least loaded technician, or the next one if another customer took
    that one a moment ago: the window is only "taken" when every technician offered in it is."""
    for technician in technicians_by_load(window, prefer=prefer):
        try:
            # A savepoint per try: a refused booking leaves the transaction usable for the next.
            with transaction.atomic():
                return book(technician)
        except AppointmentError as exc:
            if exc.code not in TAKEN_MEANWHILE:
                raise
    raise _window_taken()


def _require_email(customer: Customer) -> None:
    """Links travel by email: without an address the office has to call."""
    if not customer.email:
        raise AppointmentError(
            _("%(customer)s has no email address; please call instead.") % {"customer": customer.full_name},
            code="no_email",
        )


@transaction.atomic
def booking_invite(
    *,
    customer: Customer,
    service_type: ServiceType,
    actor: AbstractBaseUser | None,
    technician: Technician | None = None,
    note: str = "",
) -> BookingInvitation:
    """Send the customer a link to pick a window themselves."""
    _require_email(customer)
    if not service_type.is_active:
        raise AppointmentError(_("“%(service)s” is no longer offered.") % {"service": service_type})
    if technician is not None and not technician.service_types.filter(pk=service_type.pk).exists():
        raise AppointmentError(
            _("%(technician)s is not qualified for “%(service)s”.")
            % {"technician": technician, "service": service_type},
            code="technician_unqualified",
        )
    # Two live links would let the customer book twice; withdraw the first to send a new one.
    already = BookingInvitation.objects.open().filter(customer=customer, service_type=service_type).first()
    if already is not None:
        raise AppointmentError(
            _("%(customer)s was already invited for “%(service)s” on %(date)s; that link works until %(until)s.")
            % {
                "customer": customer.full_name,
                "service": service_type,
                "date": format_day(already.created_at),
                "until": format_day(already.expires_at),
            },
            code="already_invited",
        )
    invitation = BookingInvitation.objects.create(
        customer=customer,
        service_type=service_type,
        technician=technician,
        nonce=secrets.token_urlsafe(24),
        message=note.strip()[:NOTE_MAX_LENGTH],
        created_by=recorded_actor(actor),
        expires_at=timezone.now() + INVITATION_VALID_FOR,
    )
    with translation.override(settings.LANGUAGE_CODE):
        summary = _("Invited to book online: %(service)s.") % {"service": service_type.localized_name()}
    journal_record(
        customer=customer,
        action="booking.invited",
        summary=summary,
        actor=actor,
        data={
            "invitation_id": invitation.pk,
            "service_type_id": service_type.pk,
            "service": service_type_names(service_type),
        },
    )
    message_queue(kind=MessageKind.INVITATION, customer=customer, invitation=invitation)
    return invitation


@transaction.atomic
def booking_invitation_withdraw(*, invitation: BookingInvitation, actor: AbstractBaseUser | None) -> bool:
    """The office takes an invitation back (sent by mistake, agreed otherwise); False if it was no longer open."""
    invitation = (
        BookingInvitation.objects.select_for_update().select_related("customer", "service_type").get(pk=invitation.pk)
    )
    if not invitation.is_open():
        return False
    invitation_close(invitation=invitation, actor=actor, reason=INVITATION_WITHDRAWN)
    return True


@transaction.atomic
def appointment_request_new_time(
    *, appointment: Appointment, actor: AbstractBaseUser | None, reason: str
) -> Appointment:
    """The firm cannot keep the visit's time: it gives the window up and asks the customer to choose a new one.

    The visit then waits (status NEW_TIME) until the customer picks a window from the mail's link or the
    office moves or cancels it. Its window stays on record but no longer reserves the technician: a firm
    that tells a customer "we cannot keep this time" does not keep the slot either, and another customer
    may take it. Whatever was still pending for the old time (a reminder, a confirmation) is voided here,
    so nobody is told to be home, or called, at a time the firm itself gave up (seed story 001).
    `reason` goes into the mail as typed, so the office writes it in the customer's language.
    """
    reason = reason.strip()
    if not reason:
        raise AppointmentError(_("Please tell the customer why we cannot keep the time."), code="reason_missing")
    if len(reason) > NOTE_MAX_LENGTH:
        raise AppointmentError(
            _("Please keep the reason to %(most)s characters.") % {"most": NOTE_MAX_LENGTH}, code="reason_too_long"
        )
    appointment = Appointment.objects.select_for_update(of=("self",)).select_related("customer").get(pk=appointment.pk)
    if appointment.status == AppointmentStatus.NEW_TIME:
        raise AppointmentError(
            _("The customer has already been asked to choose a new time and has not answered yet."),
            code="illegal_transition",
        )
    if appointment.status != AppointmentStatus.SCHEDULED:
        raise AppointmentError(
            _("Only a scheduled visit can be moved by the customer; this one is %(status)s.")
            % {"status": appointment.get_status_display()},
            code="illegal_transition",
        )
    _require_email(appointment.customer)
    with translation.override(settings.LANGUAGE_CODE):
        summary = _("Asked the customer to choose a new time for %(window)s.") % {
            "window": format_window(appointment.window_start, appointment.window_end)
        }
        summary += " " + _("Reason: %(reason)s") % {"reason": reason}
    appointment = _transition(
        "request_new_time",
        appointment=appointment,
        actor=actor,
        summary=summary,
        data={"reason": reason},
        extra_fields={"new_time_reason": reason},
    )
    messages_supersede_queued(appointment=appointment, reason=STALE_NEW_TIME_REQUESTED)
    message_queue(kind=MessageKind.RESCHEDULE_REQUEST, appointment=appointment, context={"reason": reason})
    return appointment


@transaction.atomic
def appointment_book_online(*, invitation: BookingInvitation, window_start: datetime, note: str = "") -> Appointment:
    """The customer picked a window from their invitation."""
    invitation = (
        BookingInvitation.objects.select_for_update().select_related("customer", "service_type").get(pk=invitation.pk)
    )
    if invitation.appointment_id is not None:
        # Two people with the same link: the other one booked first.
        raise AppointmentError(_("This invitation has just been used to book a visit."), code="invitation_used")
    if not invitation.is_open():
        raise AppointmentError(_("This link is no longer valid."), code="link_dead")
    window = window_is_offered(
        service_type=invitation.service_type, window_start=window_start, technician=invitation.technician
    )
    if window is None:
        raise _window_taken()
    return _with_first_free_technician(
        window,
        invitation.technician,
        lambda technician: appointment_schedule(
            customer=invitation.customer,
            service_type=invitation.service_type,
            technician=technician,
            window_start=window.start,
            window_end=window.end,
            actor=None,
            notes=note.strip()[:NOTE_MAX_LENGTH],
            channel=Channel.WEB,
            invitation=invitation,
            require_working_hours=True,
        ),
    )


def _ensure_changeable_online(appointment: Appointment) -> None:
    """Past the cut-off before its window the visit is the office's to change: the customer calls.

    Read under the row lock, so a move by the office or a trip started a moment ago counts."""
    appointment = Appointment.objects.select_for_update(of=("self",)).get(pk=appointment.pk)
    if changeable_online(appointment):
        return
    raise AppointmentError(
        _("The technician is on the way; the visit can no longer be changed online. Please call us.")
        if appointment.status == AppointmentStatus.EN_ROUTE
        else _(
            "This visit can no longer be changed or cancelled online (possible until %(deadline)s). Please call us."
        )
        % {"deadline": deadline_text(appointment)},
        code="too_late",
    )


@transaction.atomic
def appointment_move_online(*, appointment: Appointment, window_start: datetime, note: str = "") -> Appointment:
    """The customer moved their visit from the link in a mail."""
    _ensure_changeable_online(appointment)
    window = window_is_offered(service_type=appointment.service_type, window_start=window_start, ignoring=appointment)
    if window is None:
        raise _window_taken()
    with translation.override(settings.LANGUAGE_CODE):
        reason = _("Changed online by the customer.")
    moved = _with_first_free_technician(
        window,
        appointment.technician,
        lambda technician: appointment_reschedule(
            appointment=appointment,
            window_start=window.start,
            window_end=window.end,
            technician=technician,
            actor=None,
            reason=reason + (f" {note.strip()[:NOTE_MAX_LENGTH]}" if note.strip() else ""),
            channel=Channel.WEB,
            # The version the customer's link was made for: an office move a moment ago is not undone.
            expected_version=appointment.version,
            require_working_hours=True,
        ),
    )
    note = note.strip()[:NOTE_MAX_LENGTH]
    if note:
        # The technician reads the visit's notes, not the journal.
        notes = f"{moved.notes}\n{note}" if moved.notes else note
        moved = appointment_update_details(appointment=moved, changes={"notes": notes}, actor=None)
    return moved


@transaction.atomic
def appointment_cancel_online(*, appointment: Appointment, reason: str = "") -> Appointment:
    _ensure_changeable_online(appointment)
    with translation.override(settings.LANGUAGE_CODE):
        text = _("Cancelled online by the customer.")
    reason = reason.strip()[:NOTE_MAX_LENGTH]
    return appointment_cancel(
        appointment=appointment,
        reason=f"{text} {reason}".strip(),
        actor=None,
        channel=Channel.WEB,
        # The customer's own words apart from the office-language prefix: the journal says the rest.
        journal_data={"reason_code": "online", "note": reason},
    )

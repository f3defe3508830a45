"""Links in customer mails: signed, bound to their purpose and to the state they were made for.

An appointment link signs (id, status, version): moving or cancelling the visit
changes one of them, so every older link dies by itself. An invitation link
signs (id, nonce) and dies once the invitation is used or expires. Django's
signing compares signatures in constant time; a failed check never says which
part was wrong.
"""

import hmac

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils import timezone

from appointments.models import ACTIVE_STATUSES, Appointment, BookingInvitation

APPOINTMENT_SALT = "doorstep.link.appointment.manage"
INVITATION_SALT = "doorstep.link.invitation.book"


def appointment_token(appointment: Appointment) -> str:
    return signing.dumps(
        [appointment.pk, appointment.status, appointment.version], salt=APPOINTMENT_SALT, compress=False
    )


def invitation_token(invitation: BookingInvitation) -> str:
    return signing.dumps([invitation.pk, invitation.nonce], salt=INVITATION_SALT, compress=False)


def absolute_link(token: str) -> str:
    return settings.SITE_URL + reverse("selfservice:open", args=[token])


def appointment_from_token(token: str) -> Appointment | None:
    """The appointment, if the link is genuine and still describes it; otherwise None."""
    try:
        pk, status, version = signing.loads(token, salt=APPOINTMENT_SALT)
    except (signing.BadSignature, ValueError, TypeError):
        return None
    appointment = (
        Appointment.objects.select_related("customer", "technician", "service_type").filter(pk=pk).first()
        if isinstance(pk, int)
        else None
    )
    if appointment is None or appointment.status != status or appointment.version != version:
        return None
    if appointment.status not in ACTIVE_STATUSES:
        return None
    return appointment


def invitation_from_token(token: str) -> BookingInvitation | None:
    try:
        pk, nonce = signing.loads(token, salt=INVITATION_SALT)
    except (signing.BadSignature, ValueError, TypeError):
        return None
    if not isinstance(pk, int) or not isinstance(nonce, str):
        return None
    invitation = (
        BookingInvitation.objects.select_related("customer", "service_type", "technician").filter(pk=pk).first()
    )
    if invitation is None or not hmac.compare_digest(invitation.nonce, nonce):
        return None
    if invitation.appointment_id is not None or invitation.expires_at <= timezone.now():
        return None
    return invitation

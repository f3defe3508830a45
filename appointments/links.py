"""Links in customer mails: signed, bound to their purpose and to the state they were made for.

An appointment link signs (id, status, version): moving or cancelling the visit
changes one of them, so every older link dies by itself. An invitation link
signs (id, nonce) and dies once the invitation is used or expires. Django's
signing compares signatures in constant time; a failed check never says which
part was wrong.
"""

import base64
import hmac
import re

from django.conf import settings
from django.core import signing
from django.urls import reverse

from appointments.models import Appointment, AppointmentStatus, BookingInvitation
from appointments.prebuilt import PrebuiltQuery
from config.keyed_hashes import keyed_digests

APPOINTMENT_SALT = "doorstep.link.appointment.manage"
INVITATION_SALT = "doorstep.link.invitation.book"
CARD_SALT = "doorstep.link.card"
# 8 base32 characters = 40 bits: short enough to type from a card, and about 10^12 guesses per
# card; wrong codes are also rate-limited per IP.
CARD_SECRET_LENGTH = 8
# What a self-service link may show: visits the customer can still move (or cancel), and missed ones
# or ones whose time the firm gave up, whose page offers a new time. Not a visit under way: the
# technician is at the door.
LINKABLE_STATUSES = (
    AppointmentStatus.REQUESTED,
    AppointmentStatus.SCHEDULED,
    AppointmentStatus.EN_ROUTE,
    AppointmentStatus.MISSED,
    AppointmentStatus.NEW_TIME,
)


def appointment_token(appointment: Appointment) -> str:
    return signing.dumps(
        [appointment.pk, appointment.status, appointment.version], salt=APPOINTMENT_SALT, compress=False
    )


def invitation_token(invitation: BookingInvitation) -> str:
    return signing.dumps([invitation.pk, invitation.nonce], salt=INVITATION_SALT, compress=False)


def absolute_link(token: str) -> str:
    return settings.SITE_URL + reverse("selfservice:open", args=[token])


# The page a link opens names the customer's office contact (customers.selectors.responsible_contact):
# read along with the link's row, one query fewer on every customer page (issue #11's budget).
PAGE_CONTACT = ("customer__responsible__technician", "customer__responsible__office_profile")


def _appointment_for_page(*, pk):
    return Appointment.objects.select_related("customer", "technician", "service_type", *PAGE_CONTACT).filter(pk=pk)


def _invitation_for_page(*, pk, with_appointment: bool):
    related = ["customer", "service_type", "technician", *PAGE_CONTACT]
    if with_appointment:
        related.append("appointment")
    return BookingInvitation.objects.select_related(*related).filter(pk=pk)


# Every customer page reads its link's row with five others: the ORM took several times longer to build that
# SQL than the database took to answer it, so it is built once per process (issue #11).
_appointment_for_page_query = PrebuiltQuery(Appointment, _appointment_for_page)
_invitation_for_page_query = PrebuiltQuery(BookingInvitation, _invitation_for_page)


def _signed_appointment(token: str) -> tuple[int, str, int] | None:
    """(id, status, version) as a genuine appointment link signed them; None for anything else."""
    try:
        pk, status, version = signing.loads(token, salt=APPOINTMENT_SALT)
    except (signing.BadSignature, ValueError, TypeError):
        return None
    return (pk, status, version) if isinstance(pk, int) else None


def appointment_from_token(token: str) -> Appointment | None:
    """The appointment, if the link is genuine and still describes it; otherwise None."""
    if (signed := _signed_appointment(token)) is None:
        return None
    pk, status, version = signed
    appointment = _appointment_for_page_query.first(pk=pk)
    if appointment is None or appointment.status != status or appointment.version != version:
        return None
    if appointment.status not in LINKABLE_STATUSES:
        return None
    if appointment.status == AppointmentStatus.MISSED and not appointment.awaits_rebooking():
        return None  # a new visit was booked instead: this one's page would offer a second
    return appointment


def appointment_named_by_token(token: str) -> Appointment | None:
    """The visit a genuine appointment link names, whatever became of it since (it may no longer act on it)."""
    if (signed := _signed_appointment(token)) is None:
        return None
    pk, _status, _version = signed
    return Appointment.objects.select_related("customer", "technician", "service_type").filter(pk=pk).first()


def appointment_on_the_way_from_token(token: str) -> Appointment | None:
    """The visit a genuine link was made for, if the only change since is that its technician set off.

    Such a link no longer changes anything (the status is signed), but the customer who opens the
    reminder while the van is on the road is told that, not that the link is broken."""
    signed = _signed_appointment(token)
    if signed is None or signed[1] != AppointmentStatus.SCHEDULED:
        return None
    pk, _status, version = signed
    return (
        Appointment.objects.select_related("customer", "technician", "service_type")
        .filter(pk=pk, version=version, status=AppointmentStatus.EN_ROUTE)
        .first()
    )


def missed_appointment_from_token(token: str) -> Appointment | None:
    """The visit a genuine link from the "we were at your door" mail names, whatever became of it since.

    Once a new time is booked (from this link, the card or by phone) the link no longer books, but its
    reader is told what the card would tell them, not that the link is broken."""
    signed = _signed_appointment(token)
    if signed is None or signed[1] != AppointmentStatus.MISSED:
        return None
    pk = signed[0]
    return Appointment.objects.select_related("customer").filter(pk=pk).first()


def _signed_invitation(token: str, *, with_appointment: bool = True) -> BookingInvitation | None:
    """The invitation a genuine link names, whatever its state; its booked visit read along if asked."""
    try:
        pk, nonce = signing.loads(token, salt=INVITATION_SALT)
    except (signing.BadSignature, ValueError, TypeError):
        return None
    if not isinstance(pk, int) or not isinstance(nonce, str):
        return None
    invitation = _invitation_for_page_query.first(pk=pk, with_appointment=with_appointment)
    if invitation is None or not hmac.compare_digest(invitation.nonce, nonce):
        return None
    return invitation


def invitation_from_token(token: str) -> BookingInvitation | None:
    """The invitation, if the link is genuine and may still book."""
    # An open invitation has booked nothing: joining the visit's wide row would only cost (a third of the read).
    invitation = _signed_invitation(token, with_appointment=False)
    return invitation if invitation is not None and invitation.is_open() else None


def used_invitation_from_token(token: str) -> BookingInvitation | None:
    """The invitation, if the link is genuine and booked a visit: its holder may see that visit, as the
    confirmation mail's link would show it. (One closed otherwise or expired has nothing to show.)"""
    invitation = _signed_invitation(token)
    return invitation if invitation is not None and invitation.appointment_id is not None else None


# Cards ----------------------------------------------------------------------------
# A printed card cannot follow the appointment's version like a mail link does: it
# is printed in the morning and read days later. Its code names the appointment
# and carries an HMAC of the id; the view sends the reader to whatever the visit
# needs now (a new time after a missed visit, the booking after it was rebooked).


def _card_secrets(pk: int) -> list[str]:
    """Under the current key first: a card printed before a key rotation still works while the old key is
    in SECRET_KEY_FALLBACKS."""
    return [base64.b32encode(digest).decode()[:CARD_SECRET_LENGTH] for digest in keyed_digests(CARD_SALT, str(pk))]


def card_code(appointment: Appointment) -> str:
    return f"{appointment.pk}-{_card_secrets(appointment.pk)[0]}"


def card_url(appointment: Appointment) -> str:
    return settings.SITE_URL + reverse("card", args=[card_code(appointment)])


# People type the printed code by hand. Whatever is not a letter or digit (a missing, extra or
# different hyphen, spaces, a full stop copied with it) is dropped; the secret is the last
# CARD_SECRET_LENGTH characters, the id what comes before. Base32 has no 0, 1 or 8, so those can
# only be a misread O, I or L, and B; I and L count as one letter (1 looks like both). Folding
# I and L together costs under half a bit of the secret's 40, and wrong codes are rate-limited.
_NOT_TYPED = re.compile(r"[^0-9A-Za-z]")
_SECRET_LOOKALIKES = str.maketrans("018L", "OIBI")
_ID_LOOKALIKES = str.maketrans("OIL", "011")
_LONGEST_TYPED_CODE = 64


def _folded_secret(secret: str) -> str:
    return secret.upper().translate(_SECRET_LOOKALIKES)


def appointment_from_card_code(code: str) -> Appointment | None:
    """The appointment a card's code names, if the code is genuine, however it was typed."""
    if len(code) > _LONGEST_TYPED_CODE:
        return None
    typed = _NOT_TYPED.sub("", code).upper()
    pk, secret = typed[:-CARD_SECRET_LENGTH].translate(_ID_LOOKALIKES), typed[-CARD_SECRET_LENGTH:]
    if not (pk.isascii() and pk.isdigit()) or len(pk) > 12 or len(secret) != CARD_SECRET_LENGTH:
        return None
    typed_secret = _folded_secret(secret).encode()
    # Every candidate is compared, so the time taken does not tell which key (if any) matched.
    if not sum(
        hmac.compare_digest(_folded_secret(expected).encode(), typed_secret) for expected in _card_secrets(int(pk))
    ):
        return None
    return Appointment.objects.select_related("customer").filter(pk=int(pk)).first()

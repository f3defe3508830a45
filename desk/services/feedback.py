"""Feedback: asked for once after a completed visit, received by any channel, answered by its owner.

Every feedback is a promise (PromiseKind.REPLY_FEEDBACK) owned by one office person and due within
FEEDBACK_REPLY_WITHIN of office time; the customer is told at once who will answer and by when. The
promise's escalation (due soon, late, a lead) covers feedback left unanswered: nothing here repeats it.
"""

import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from appointments.models import Appointment, AppointmentStatus
from customers.models import Customer
from customers.selectors import is_office_staff
from customers.services import customer_update
from desk.models import Feedback, FeedbackChannel, FeedbackRequest, FeedbackState, Promise, PromiseKind, PromiseState
from desk.models.feedback import FEEDBACK_COMMENT_MAX_LENGTH, RATING_MAX, RATING_MIN
from desk.owners import owner_for
from desk.services.promises import promise_chain_ids, promise_keep, promise_make, promise_void
from desk.working_time import add_working_time, on_the_quarter
from journal.models import Channel, Direction
from journal.services import journal_record, recorded_actor
from notifications.models import MessageKind
from notifications.services import message_queue

# A request is never sent for a visit completed longer ago than this: "how was our visit three
# weeks ago?" is noise (and a newly deployed sweep must not ask about the whole history).
FEEDBACK_REQUEST_MAX_AGE = timedelta(days=7)
FEEDBACK_REPLY_MAX_LENGTH = 10_000

# How a feedback's channel is filed in the journal.
JOURNAL_CHANNELS = {
    FeedbackChannel.LINK: Channel.WEB,
    FeedbackChannel.EMAIL: Channel.EMAIL,
    FeedbackChannel.PHONE: Channel.PHONE,
    FeedbackChannel.LETTER: Channel.LETTER,
    FeedbackChannel.IN_PERSON: Channel.VISIT,
}


class FeedbackError(Exception):
    def __init__(self, message: str, *, code: str = "invalid"):
        super().__init__(message)
        self.message = message
        self.code = code


def _office(text_function):
    """A journal summary in the office's language, whoever's request (a customer's page) wrote it."""
    with translation.override(settings.LANGUAGE_CODE):
        return text_function()


def _person_name(user) -> str:
    return " ".join((user.get_full_name() or user.get_username()).split())


# Asking ---------------------------------------------------------------------------------------


def feedback_requests_due(*, now: datetime):
    """Completed visits whose request is due at `now`: completed at least FEEDBACK_REQUEST_DELAY ago, at
    most FEEDBACK_REQUEST_MAX_AGE ago, of customers who did not opt out, and not asked about before."""
    return (
        Appointment.objects.filter(
            status=AppointmentStatus.COMPLETED,
            completed_at__lte=now - settings.FEEDBACK_REQUEST_DELAY,
            completed_at__gte=now - FEEDBACK_REQUEST_MAX_AGE,
            customer__feedback_requests=True,
            feedback_request__isnull=True,
        )
        .select_related("customer")
        .order_by("completed_at", "pk")
    )


@transaction.atomic
def feedback_request_queue(*, appointment: Appointment) -> FeedbackRequest | None:
    """Ask the customer of a completed visit how it went: one mail per visit, ever. None if not asked
    (the visit is not completed, the customer opted out, or it was asked about already)."""
    appointment = Appointment.objects.select_for_update(of=("self",)).select_related("customer").get(pk=appointment.pk)
    if appointment.status != AppointmentStatus.COMPLETED or not appointment.customer.feedback_requests:
        return None
    try:
        with transaction.atomic():
            request = FeedbackRequest.objects.create(
                appointment=appointment, customer=appointment.customer, secret=secrets.token_urlsafe(24)
            )
    except IntegrityError:
        return None  # asked already (another sweep got here first)
    message_queue(
        kind=MessageKind.FEEDBACK_REQUEST,
        appointment=appointment,
        customer=appointment.customer,
        dedupe=f"visit-{appointment.pk}",
    )
    return request


def feedback_requests_queue(*, now: datetime | None = None) -> int:
    """The sweep: queue every request due at `now`, each in its own transaction. Returns how many."""
    now = now or timezone.now()
    queued = 0
    for appointment_id in list(feedback_requests_due(now=now).values_list("pk", flat=True)[:500]):
        if feedback_request_queue(appointment=Appointment(pk=appointment_id)) is not None:
            queued += 1
    return queued


def feedback_request_from_token(token: str) -> FeedbackRequest | None:
    """The request a feedback link names, if the link is genuine; None for anything else."""
    pk, _dash, secret = (token or "").partition("-")
    if not (pk.isascii() and pk.isdigit()) or len(pk) > 12 or not secret or len(secret) > 64:
        return None
    request = (
        FeedbackRequest.objects.select_related("customer", "appointment__service_type", "feedback")
        .filter(pk=int(pk))
        .first()
    )
    if request is None or not secrets.compare_digest(request.secret.encode(), secret.encode()):
        return None
    return request


def feedback_request_token(request: FeedbackRequest) -> str:
    return f"{request.pk}-{request.secret}"


@transaction.atomic
def feedback_requests_opt_out(*, customer: Customer, actor: AbstractBaseUser | None = None) -> Customer:
    """The customer's "don't ask me again": no more feedback requests; ones still queued are not sent."""
    return customer_update(customer=customer, changes={"feedback_requests": False}, actor=actor)


# Receiving ------------------------------------------------------------------------------------


def _clean_rating(rating) -> int | None:
    if rating in (None, ""):
        return None
    if isinstance(rating, bool) or not isinstance(rating, int | str):
        raise FeedbackError(_("Please choose a rating from 1 to 5 stars."), code="rating")
    try:
        value = int(rating)
    except ValueError:
        raise FeedbackError(_("Please choose a rating from 1 to 5 stars."), code="rating") from None
    if not RATING_MIN <= value <= RATING_MAX:
        raise FeedbackError(_("Please choose a rating from 1 to 5 stars."), code="rating")
    return value


@transaction.atomic
def feedback_receive(
    *,
    customer: Customer,
    appointment: Appointment | None = None,
    channel: str,
    rating: int | None = None,
    comment: str = "",
    actor: AbstractBaseUser | None = None,
    received_at: datetime | None = None,
    request: FeedbackRequest | None = None,
) -> Feedback:
    """Record feedback from `customer`, give it an owner and a reply deadline, and tell the customer.

    Used by the feedback link page (channel "link", `request` = the link's FeedbackRequest), by the
    office logging feedback from a call, a letter or the counter (the admin's add form, `actor` = the
    clerk), and by inbound mail (H5: channel "email", `comment` = the mail's text without quotes, `actor`
    None, `appointment` where the reply address names a visit). `rating` is 1–5 or None (required only
    on the link); `comment` at most FEEDBACK_COMMENT_MAX_LENGTH characters for the link (longer text
    from other channels is kept whole). Raises FeedbackError (translated message, code) and changes
    nothing on bad input.

    In one transaction: the Feedback row, a journal entry "feedback.received", a promise
    REPLY_FEEDBACK for owner_for(customer) due FEEDBACK_REPLY_WITHIN of office time after receipt, and an
    acknowledgement mail (feedback_ack) naming the owner and the deadline.
    """
    if channel not in FeedbackChannel.values:
        raise FeedbackError(_("Unknown channel."), code="channel")
    rating = _clean_rating(rating)
    comment = (comment or "").replace("\r\n", "\n").strip()
    if channel == FeedbackChannel.LINK:
        if rating is None:
            raise FeedbackError(_("Please choose a rating from 1 to 5 stars."), code="rating")
        if len(comment) > FEEDBACK_COMMENT_MAX_LENGTH:
            raise FeedbackError(
                _("Please keep your comment to %(max)s characters (it has %(length)s).")
                % {"max": FEEDBACK_COMMENT_MAX_LENGTH, "length": len(comment)},
                code="comment_length",
            )
    elif rating is None and not comment:
        raise FeedbackError(_("Give a rating or write down what the customer said."), code="empty")
    if appointment is not None and appointment.customer_id != customer.pk:
        raise FeedbackError(_("This visit belongs to another customer."), code="appointment")
    if request is not None:
        request = FeedbackRequest.objects.select_for_update().get(pk=request.pk)
        if request.feedback_id is not None:
            raise FeedbackError(_("We have already received your feedback for this visit."), code="already")
    owner = owner_for(customer=customer)
    if owner is None:
        raise FeedbackError(_("Nobody in the office could own this feedback."), code="owner")
    received_at = received_at or timezone.now()
    # On the quarter hour: the acknowledgement tells the customer this time ("by 14:15", not "by 14:07").
    due = on_the_quarter(add_working_time(received_at, settings.FEEDBACK_REPLY_WITHIN), up=True)
    entry = journal_record(
        customer=customer,
        appointment=appointment,
        action="feedback.received",
        summary=_office(
            lambda: (
                _("Feedback received (%(channel)s): %(rating)s")
                % {"channel": FeedbackChannel(channel).label, "rating": f"{rating}/5" if rating else "–"}
            )
        ),
        channel=JOURNAL_CHANNELS[channel],
        direction=Direction.INBOUND,
        actor=actor,
        data={
            "channel": channel,
            "rating": rating,
            "comment": comment[:500],
            "owner_id": owner.pk,
            "owner_name": _person_name(owner),
            "due_at": due.isoformat(),
        },
        occurred_at=received_at,
    )
    promise = promise_make(
        customer=customer,
        kind=PromiseKind.REPLY_FEEDBACK,
        owner=owner,
        due_at=due,
        appointment=appointment,
        note=comment[:200],
        made_in=entry,
        actor=actor,
    )
    feedback = Feedback.objects.create(
        customer=customer,
        appointment=appointment,
        channel=channel,
        rating=rating,
        comment=comment,
        received_at=received_at,
        owner=owner,
        reply_due_at=due,
        promise=promise,
        created_by=recorded_actor(actor),
    )
    if request is not None:
        request.feedback = feedback
        request.save(update_fields=["feedback"])
    message_queue(
        kind=MessageKind.FEEDBACK_ACK,
        customer=customer,
        appointment=appointment,
        context={"feedback_id": feedback.pk},
        dedupe=f"feedback-{feedback.pk}",
    )
    return feedback


# Answering ------------------------------------------------------------------------------------


def _open_promise(feedback: Feedback) -> Promise | None:
    """The reply's promise as it stands: moved promises are replaced by a new one, followed here."""
    promise = feedback.promise
    seen = 0
    while promise is not None and promise.state == PromiseState.MOVED and seen < 50:
        promise = Promise.objects.filter(replaces=promise).first()
        seen += 1
    return promise if promise is not None and promise.state == PromiseState.OPEN else None


def _lock_open(feedback: Feedback) -> Feedback:
    """`feedback` re-read and locked, or FeedbackError if it was answered or closed meanwhile."""
    # Only this row is locked (of=self): PostgreSQL refuses FOR UPDATE on the nullable side of the promise join.
    feedback = (
        Feedback.objects.select_for_update(of=("self",)).select_related("customer", "promise").get(pk=feedback.pk)
    )
    if feedback.state == FeedbackState.ANSWERED:
        raise FeedbackError(_("This feedback has already been answered."), code="answered")
    if feedback.state == FeedbackState.CLOSED:
        raise FeedbackError(_("This feedback has already been closed."), code="closed")
    return feedback


@transaction.atomic
def feedback_reply(*, feedback: Feedback, text: str, actor: AbstractBaseUser | None) -> Feedback:
    """Send the office's reply (`text`, as written, escaped in the mail) and close the feedback's promise."""
    feedback = _lock_open(feedback)
    text = (text or "").replace("\r\n", "\n").strip()
    if not text:
        raise FeedbackError(_("Write the reply to the customer."), code="empty")
    if len(text) > FEEDBACK_REPLY_MAX_LENGTH:
        raise FeedbackError(
            _("The reply is too long (at most %(max)s characters).") % {"max": FEEDBACK_REPLY_MAX_LENGTH},
            code="reply_length",
        )
    now = timezone.now()
    promise = _open_promise(feedback)
    if promise is not None and promise.owner_id != feedback.owner_id:
        # Handed over since (promise_reassign): the reply names whoever owns it now. The deadline stays the
        # one the customer was told in the acknowledgement, however the promise was moved.
        feedback.owner_id = promise.owner_id
    feedback.state = FeedbackState.ANSWERED
    feedback.reply_text = text
    feedback.replied_at = now
    feedback.replied_by = recorded_actor(actor)
    feedback.save(update_fields=["state", "reply_text", "replied_at", "replied_by", "owner"])
    entry = journal_record(
        customer=feedback.customer,
        appointment=feedback.appointment,
        action="feedback.replied",
        summary=_office(lambda: _("Reply to feedback sent by email.")),
        channel=Channel.EMAIL,
        direction=Direction.OUTBOUND,
        actor=actor,
        data={
            "feedback_id": feedback.pk,
            "reply": text[:500],
            "in_time": now <= feedback.reply_due_at,
            "due_at": feedback.reply_due_at.isoformat(),
        },
        occurred_at=now,
    )
    message_queue(
        kind=MessageKind.FEEDBACK_REPLY,
        customer=feedback.customer,
        appointment=feedback.appointment,
        context={"feedback_id": feedback.pk},
        dedupe=f"feedback-{feedback.pk}",
    )
    if promise is not None:
        promise_keep(promise=promise, entry=entry, actor=actor)
    return feedback


def _feedback_of_chain(promise: Promise) -> Feedback | None:
    """The open feedback whose reply `promise` is, directly or by replacing (moving) its first promise;
    locked (only its own row: PostgreSQL refuses FOR UPDATE on the nullable side of a join)."""
    chain = promise_chain_ids(promise)
    return (
        Feedback.objects.select_for_update(of=("self",)).filter(promise_id__in=chain, state=FeedbackState.OPEN).first()
    )


@transaction.atomic
def feedback_answered_by_contact(*, promise: Promise) -> Feedback | None:
    """The feedback's reply promise was kept by a contact the office logged (a call, a letter) rather than
    by feedback_reply's email: the feedback is answered then, by whoever kept it, so it neither waits for a
    reply any more nor counts as answered late. Returns the feedback answered, or None."""
    feedback = _feedback_of_chain(promise)
    if feedback is None:
        return None
    kept_by = promise.kept_by
    feedback.state = FeedbackState.ANSWERED
    feedback.replied_at = promise.closed_at or timezone.now()
    feedback.replied_by = kept_by.actor if kept_by is not None else None
    feedback.save(update_fields=["state", "replied_at", "replied_by"])
    return feedback


# Closing without a reply ----------------------------------------------------------------------

FEEDBACK_CLOSE_REASON_MAX_LENGTH = 500


@transaction.atomic
def feedback_close(*, feedback: Feedback, reason: str, actor: AbstractBaseUser | None) -> Feedback:
    """The office decides that no reply is owed (the customer withdrew it, it was answered in person and
    not logged, it is spam): the feedback is closed with `reason` (required), journalled, and its reply
    promise voided. It no longer awaits a reply, and counts as late only if it was left past its deadline."""
    feedback = _lock_open(feedback)
    reason = " ".join((reason or "").split())
    if not reason:
        raise FeedbackError(_("Say why this feedback needs no reply."), code="reason")
    if len(reason) > FEEDBACK_CLOSE_REASON_MAX_LENGTH:
        raise FeedbackError(
            _("Please keep the reason to %(max)s characters.") % {"max": FEEDBACK_CLOSE_REASON_MAX_LENGTH},
            code="reason_length",
        )
    now = timezone.now()
    feedback.state = FeedbackState.CLOSED
    feedback.closed_at = now
    feedback.closed_reason = reason
    feedback.closed_by = recorded_actor(actor)
    feedback.save(update_fields=["state", "closed_at", "closed_reason", "closed_by"])
    journal_record(
        customer=feedback.customer,
        appointment=feedback.appointment,
        action="feedback.closed",
        summary=_office(lambda: _("Feedback closed without reply: %(reason)s") % {"reason": reason}),
        actor=actor,
        data={
            "feedback_id": feedback.pk,
            "reason": reason,
            "late": now > feedback.reply_due_at,
            "due_at": feedback.reply_due_at.isoformat(),
        },
        occurred_at=now,
    )
    promise = _open_promise(feedback)
    if promise is not None:
        # The feedback is closed first, so feedback_reply_promise_voided leaves it closed.
        promise_void(promise=promise, reason=reason, actor=actor, code="feedback_closed")
    return feedback


@transaction.atomic
def feedback_reply_promise_voided(*, promise: Promise) -> Promise | None:
    """A reply-to-feedback promise was voided some other way than feedback_close (the visit it named was
    cancelled; someone voided it in the promise list). Voiding is not answering: the customer was told who
    answers by when, so the feedback gets a new promise for its owner, due at the same deadline (late at
    once if that has passed, which is the truth). Only feedback_close ends a feedback without a reply.
    Returns the new promise, or None if the feedback is answered or closed already."""
    feedback = _feedback_of_chain(promise)
    if feedback is None:
        return None
    owner = promise.owner if is_office_staff(promise.owner) else owner_for(customer=feedback.customer)
    if owner is None:
        return None
    note = _office(
        lambda: (
            _(
                "The feedback still awaits a reply (the earlier promise was voided: %(reason)s). "
                "If no reply is owed, close the feedback without reply."
            )
            % {"reason": promise.closed_reason}
        )
    )
    renewed = promise_make(
        customer=feedback.customer,
        kind=PromiseKind.REPLY_FEEDBACK,
        owner=owner,
        due_at=feedback.reply_due_at,
        appointment=feedback.appointment,
        note=note,
        made_in=promise.made_in,
        replaces=promise,
    )
    feedback.promise = renewed
    feedback.owner = owner
    feedback.save(update_fields=["promise", "owner"])
    return renewed

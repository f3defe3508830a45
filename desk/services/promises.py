"""Promises: made, kept, moved, voided, handed over. Each change is one journal entry of the customer."""

from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from appointments.formatting import format_window
from customers.models import OFFICE_STAFF
from customers.selectors import is_office_staff
from desk.models import (
    Feedback,
    InboundMail,
    InboundStatus,
    Promise,
    PromiseKind,
    PromiseState,
    VisitMoveRule,
    WebRequest,
)
from desk.owners import owner_for
from desk.working_time import working_time_between
from journal.models import JournalEntry
from journal.services import journal_record, recorded_actor
from notifications.models import MessageKind, OutboxMessage
from notifications.services import message_queue, staff_message_queue


class PromiseError(Exception):
    def __init__(self, message: str, *, code: str = "invalid"):
        super().__init__(message)
        self.message = message
        self.code = code


def _promise_data(promise: Promise, **extra) -> dict:
    return {
        "promise_id": promise.pk,
        "kind": promise.kind,
        "owner_id": promise.owner_id,
        "owner_name": promise.owner.get_full_name() or promise.owner.get_username(),
        "due_at": promise.due_at.isoformat(),
        **extra,
    }


def _journal(promise: Promise, *, action: str, summary: str, actor, **extra) -> JournalEntry:
    return journal_record(
        customer=promise.customer,
        appointment=promise.appointment,
        action=action,
        summary=summary,
        actor=actor,
        data=_promise_data(promise, **extra),
    )


def _check_owner(owner) -> None:
    if owner is None or not is_office_staff(owner):
        raise PromiseError(
            _("A promise is owned by an active member of the office staff, not a technician."), code="owner"
        )


def _locked_open(promise: Promise) -> Promise:
    locked = Promise.objects.select_for_update().select_related("customer", "owner").get(pk=promise.pk)
    if locked.state != PromiseState.OPEN:
        raise PromiseError(
            _("This promise is already closed (%(state)s).") % {"state": locked.get_state_display()}, code="closed"
        )
    return locked


@transaction.atomic
def promise_make(
    *,
    customer,
    kind: str,
    owner,
    due_at: datetime,
    appointment=None,
    note: str = "",
    made_in: JournalEntry | None = None,
    actor: AbstractBaseUser | None = None,
    replaces: Promise | None = None,
) -> Promise:
    """Record that `owner` will do `kind` for `customer` by `due_at`."""
    if kind not in PromiseKind.values:
        raise PromiseError(_("Unknown kind of promise."), code="kind")
    _check_owner(owner)
    if appointment is not None and appointment.customer_id != customer.pk:
        raise PromiseError(_("This visit belongs to another customer."), code="appointment")
    if made_in is not None and made_in.customer_id != customer.pk:
        raise PromiseError(_("This contact belongs to another customer."), code="made_in")
    promise = Promise.objects.create(
        kind=kind,
        customer=customer,
        appointment=appointment,
        owner=owner,
        due_at=due_at,
        note=note.strip(),
        made_in=made_in,
        replaces=replaces,
        created_by=recorded_actor(actor),
    )
    _journal(
        promise,
        action="promise.made",
        summary=_("Promise: %(kind)s by %(due)s (%(owner)s).")
        % {
            "kind": promise.get_kind_display(),
            "due": timezone.localtime(due_at).strftime("%Y-%m-%d %H:%M"),
            "owner": owner.get_full_name() or owner.get_username(),
        },
        actor=actor,
        note=promise.note,
        replaces_id=replaces.pk if replaces else None,
    )
    return promise


@transaction.atomic
def promise_keep(*, promise: Promise, entry: JournalEntry, actor: AbstractBaseUser | None = None) -> Promise:
    """Mark `promise` kept by the contact `entry` (the call made, the mail sent)."""
    promise = _locked_open(promise)
    if entry.customer_id != promise.customer_id:
        raise PromiseError(_("This contact belongs to another customer."), code="entry")
    promise.state = PromiseState.DONE
    promise.kept_by = entry
    promise.closed_at = timezone.now()
    promise.save(update_fields=["state", "kept_by", "closed_at"])
    if promise.kind == PromiseKind.REPLY_MAIL:
        # The answer is logged: the mail it answers leaves the "awaiting reply" list.
        InboundMail.objects.filter(promise=promise, status=InboundStatus.NEW).update(status=InboundStatus.ANSWERED)
    late = promise.closed_at > promise.due_at
    _journal(
        promise,
        action="promise.kept",
        summary=_("Promise kept: %(kind)s.") % {"kind": promise.get_kind_display()},
        actor=actor,
        entry_id=entry.pk,
        late=late,
    )
    return promise


@transaction.atomic
def promise_void(
    *,
    promise: Promise,
    reason: str,
    actor: AbstractBaseUser | None = None,
    code: str = "",
    reason_data: dict | None = None,
) -> Promise:
    """Close `promise` unkept because it no longer applies (the visit it was about moved, was cancelled…).

    `code` names a reason the system gives and `reason_data` its details (JSON), so the journal can say it
    in the reader's language; `reason` is the office-language text kept with the promise."""
    promise = _locked_open(promise)
    if not reason.strip():
        raise PromiseError(_("Say why the promise no longer applies."), code="reason")
    promise.state = PromiseState.VOIDED
    promise.closed_reason = reason.strip()
    promise.closed_at = timezone.now()
    promise.save(update_fields=["state", "closed_reason", "closed_at"])
    _journal(
        promise,
        action="promise.voided",
        summary=_("Promise voided: %(kind)s (%(reason)s).") % {"kind": promise.get_kind_display(), "reason": reason},
        actor=actor,
        reason=promise.closed_reason,
        reason_code=code,
        **(reason_data or {}),
    )
    return promise


@transaction.atomic
def promise_move(
    *,
    promise: Promise,
    due_at: datetime,
    actor: AbstractBaseUser | None = None,
    reason: str = "",
    code: str = "",
    appointment=None,
    reason_data: dict | None = None,
) -> Promise:
    """Give `promise` a new due time: the old one is closed as moved and a new one replaces it, so nobody
    acts on the old time (seed story 001: called at the old time by someone else).

    `appointment`: the visit the new one is about, when a missed visit was rebooked as another one."""
    old = _locked_open(promise)
    if appointment is not None and appointment.customer_id != old.customer_id:
        raise PromiseError(_("This visit belongs to another customer."), code="appointment")
    old.state = PromiseState.MOVED
    old.closed_reason = reason.strip()
    old.closed_at = timezone.now()
    old.save(update_fields=["state", "closed_reason", "closed_at"])
    new = Promise.objects.create(
        kind=old.kind,
        customer=old.customer,
        appointment=appointment or old.appointment,
        owner=old.owner,
        due_at=due_at,
        note=old.note,
        made_in=old.made_in,
        replaces=old,
        created_by=recorded_actor(actor),
    )
    # A request or a feedback names the promise that stands: its customer's link and the office's pages
    # then show the new time, and nobody acts on the old one (seed 001's second rule). Said here, where
    # the move happens, rather than in a post_save receiver that fires for every new promise.
    WebRequest.objects.filter(promise=old).update(promise=new)
    Feedback.objects.filter(promise=old).update(promise=new)
    InboundMail.objects.filter(promise=old).update(promise=new)
    _journal(
        new,
        action="promise.moved",
        summary=(
            _("Promise moved: %(kind)s, now by %(due)s (%(reason)s).")
            if old.closed_reason
            else _("Promise moved: %(kind)s, now by %(due)s.")
        )
        % {
            "kind": new.get_kind_display(),
            "due": timezone.localtime(due_at).strftime("%Y-%m-%d %H:%M"),
            "reason": old.closed_reason,
        },
        actor=actor,
        old_promise_id=old.pk,
        old_due_at=old.due_at.isoformat(),
        reason=old.closed_reason,
        reason_code=code,
        **(reason_data or {}),
    )
    return new


@transaction.atomic
def promise_reassign(*, promise: Promise, owner, actor: AbstractBaseUser | None = None) -> Promise:
    """Hand an open promise to another office person."""
    promise = _locked_open(promise)
    _check_owner(owner)
    previous = promise.owner
    promise.owner = owner
    promise.warned_due_soon_at = promise.warned_late_at = None
    promise.save(update_fields=["owner", "warned_due_soon_at", "warned_late_at"])
    # A feedback's owner is whoever owes its reply: its link page and the office's lists name them now.
    Feedback.objects.filter(promise=promise).update(owner=owner)
    _journal(
        promise,
        action="promise.reassigned",
        summary=_("Promise handed over: %(kind)s, now %(owner)s.")
        % {"kind": promise.get_kind_display(), "owner": owner.get_full_name() or owner.get_username()},
        actor=actor,
        previous_owner_id=previous.pk,
        previous_owner_name=previous.get_full_name() or previous.get_username(),
    )
    return promise


# Promises follow their visit ---------------------------------------------------------------------------

VISIT_MOVED = "visit_moved"
VISIT_TIME_WITHDRAWN = "visit_time_withdrawn"
VISIT_CANCELLED = "visit_cancelled"


def _open_for_visit(appointment) -> list[Promise]:
    # Locked in id order, so two moves of the same visit wait for each other rather than deadlock.
    return list(
        Promise.objects.select_for_update()
        .select_related("customer", "owner")
        .filter(appointment=appointment, state=PromiseState.OPEN)
        .order_by("pk")
    )


def _office_text(text, **values) -> str:
    """A reason stored with the promise (`text` lazily translated): in the office's language, like the
    rest of the journal."""
    with translation.override(settings.LANGUAGE_CODE):
        return str(text) % values if values else str(text)


def _journal_left_as_is(promise: Promise, *, reason: str, code: str, actor, reason_data: dict | None = None) -> None:
    with translation.override(settings.LANGUAGE_CODE):
        summary = _("Promise stays as it was: %(kind)s by %(due)s (%(reason)s).") % {
            "kind": promise.get_kind_display(),
            "due": timezone.localtime(promise.due_at).strftime("%Y-%m-%d %H:%M"),
            "reason": reason,
        }
    _journal(
        promise,
        action="promise.unchanged",
        summary=summary,
        actor=actor,
        reason=reason,
        reason_code=code,
        **(reason_data or {}),
    )


@transaction.atomic
def promises_follow_visit(
    *,
    appointment,
    old_window_start: datetime,
    old_window_end: datetime,
    previous_status: str = "",
    actor: AbstractBaseUser | None = None,
) -> list[Promise]:
    """The visit got a new window: each open promise tied to it moves by as much as the window did, is
    voided, or stays, by its kind's rule (VISIT_MOVE_RULES). Returns the promises open afterwards.

    Runs inside the move's own transaction (appointments.signals), so no promise is ever left due at
    the old time, and a failure here undoes the move.
    """
    shift = appointment.window_start - old_window_start
    with translation.override(settings.LANGUAGE_CODE):
        window_text = format_window(appointment.window_start, appointment.window_end)
    reason = _office_text(gettext_lazy("the visit moved to %(window)s"), window=window_text)
    details = {
        "visit_window_start": appointment.window_start.isoformat(),
        "visit_window_end": appointment.window_end.isoformat(),
    }
    result = _apply_visit_move_rules(appointment, shift=shift, reason=reason, details=details, actor=actor)
    if previous_status == "new_time":
        result += _revive_withdrawn(appointment=appointment, shift=shift, reason=reason, actor=actor)
    return result


def _apply_visit_move_rules(
    appointment, *, shift: timedelta, reason: str, details: dict, actor, new_visit=None
) -> list[Promise]:
    """Each open promise of `appointment` moved by `shift` (onto `new_visit`, if given), voided or left as it
    is, by its kind's rule (VISIT_MOVE_RULES). Returns the promises open afterwards."""
    result = []
    for promise in _open_for_visit(appointment):
        rule = promise.visit_move_rule
        if rule == VisitMoveRule.MOVE:
            moved = promise_move(
                promise=promise,
                due_at=_not_before_now(promise.due_at + shift),
                actor=actor,
                reason=reason,
                code=VISIT_MOVED,
                reason_data=details,
                appointment=new_visit,
            )
            result.append(moved)
        elif rule == VisitMoveRule.VOID:
            promise_void(promise=promise, reason=reason, actor=actor, code=VISIT_MOVED, reason_data=details)
        else:
            _journal_left_as_is(promise, reason=reason, code=VISIT_MOVED, actor=actor, reason_data=details)
            result.append(promise)
    return result


def _not_before_now(moment: datetime) -> datetime:
    # A visit brought forward can pull "call the day before" into the past: then it is due now, not late.
    return max(moment, timezone.now())


def _revive_withdrawn(*, appointment, shift, reason: str, actor) -> list[Promise]:
    """The customer chose a new time after the firm gave the old one up: the promises that were to move
    with the visit come back, shifted from the given-up time; those about the old time stay voided."""
    withdrawn = (
        Promise.objects.select_related("customer", "owner")
        .filter(
            appointment=appointment,
            state=PromiseState.VOIDED,
            replaced_by__isnull=True,
        )
        .filter(pk__in=_withdrawn_ids(appointment))
        .order_by("pk")
    )
    revived = []
    for old in withdrawn:
        if old.visit_move_rule != VisitMoveRule.MOVE:
            continue
        revived.append(
            promise_make(
                customer=old.customer,
                kind=old.kind,
                owner=old.owner if is_office_staff(old.owner) else owner_for(customer=old.customer),
                due_at=_not_before_now(old.due_at + shift),
                appointment=appointment,
                note=old.note,
                made_in=old.made_in,
                actor=actor,
                replaces=old,
            )
        )
    return revived


def _withdrawn_ids(appointment) -> list[int]:
    """Promises of this visit voided because the firm gave its time up (the journal holds the code)."""
    return [
        data["promise_id"]
        for data in JournalEntry.objects.filter(
            appointment=appointment, action="promise.voided", data__reason_code=VISIT_TIME_WITHDRAWN
        ).values_list("data", flat=True)
    ]


@transaction.atomic
def promises_visit_time_withdrawn(*, appointment, actor: AbstractBaseUser | None = None) -> list[Promise]:
    """The firm gave the visit's time up: promises about that time, and those that would move with it,
    are voided (there is no time to move them to); they come back when the customer picks a new time."""
    reason = _office_text(gettext_lazy("we asked the customer to choose a new time for the visit"))
    kept = []
    for promise in _open_for_visit(appointment):
        if promise.visit_move_rule == VisitMoveRule.KEEP:
            _journal_left_as_is(promise, reason=reason, code=VISIT_TIME_WITHDRAWN, actor=actor)
            kept.append(promise)
        else:
            promise_void(promise=promise, reason=reason, actor=actor, code=VISIT_TIME_WITHDRAWN)
    return kept


@transaction.atomic
def promises_follow_rebooking(*, appointment, rebooked_as, actor: AbstractBaseUser | None = None) -> list[Promise]:
    """A missed visit was answered by a new booking: its open promises go to the new visit, by their rule
    (moved by as much as the time did, voided, or left on the missed visit as they were)."""
    shift = rebooked_as.window_start - appointment.window_start
    reason = _office_text(gettext_lazy("the missed visit was rebooked as D-%(new)s"), new=rebooked_as.pk)
    details = {"rebooked_as_id": rebooked_as.pk}
    return _apply_visit_move_rules(
        appointment, shift=shift, reason=reason, details=details, actor=actor, new_visit=rebooked_as
    )


@transaction.atomic
def promises_visit_cancelled(*, appointment, reason: str = "", actor: AbstractBaseUser | None = None) -> int:
    """The visit was cancelled: every open promise tied to it is voided. Returns how many."""
    text = (
        _office_text(gettext_lazy("the visit was cancelled (%(reason)s)"), reason=reason.strip())
        if reason.strip()
        else _office_text(gettext_lazy("the visit was cancelled"))
    )
    promises = _open_for_visit(appointment)
    for promise in promises:
        promise_void(
            promise=promise,
            reason=text,
            actor=actor,
            code=VISIT_CANCELLED,
            reason_data={"cancel_reason": reason.strip()},
        )
    return len(promises)


# "No answer yet": the promise is kept in the customer's eyes even when its answer is not ready -----------

WAITING_FOR_MAX_LENGTH = 300


@transaction.atomic
def promise_report_no_answer(
    *, promise: Promise, waiting_for: str, next_contact_at: datetime, actor: AbstractBaseUser | None
) -> Promise:
    """Tell the customer what we are still waiting for, when they will hear from us next and from whom
    (the owner), and move the promise to that time (seed story 001: the answer came late without a word).

    Returns the promise that replaces `promise`, due at `next_contact_at`.
    """
    waiting_for = " ".join(waiting_for.split())
    if not waiting_for:
        raise PromiseError(_("Say what we are still waiting for."), code="waiting_for")
    if len(waiting_for) > WAITING_FOR_MAX_LENGTH:
        raise PromiseError(
            _("Please keep what we are waiting for to %(most)s characters.") % {"most": WAITING_FOR_MAX_LENGTH},
            code="waiting_for",
        )
    if next_contact_at is None or timezone.is_naive(next_contact_at):
        raise PromiseError(_("Give the date and time of the next contact."), code="next_contact_at")
    if next_contact_at <= timezone.now():
        raise PromiseError(_("The next contact must be in the future."), code="next_contact_at")
    locked = _locked_open(promise)
    if not locked.customer.email:
        raise PromiseError(
            _("This customer has no email address: call them and log the call instead."), code="no_email"
        )
    language = conversation_language(locked)
    with translation.override(settings.LANGUAGE_CODE):
        reason = _("No answer yet (waiting for: %(waiting_for)s); the customer was told.") % {
            "waiting_for": waiting_for
        }
    new = promise_move(
        promise=locked,
        due_at=next_contact_at,
        actor=actor,
        reason=reason,
        code="no_answer_yet",
        reason_data={"waiting_for": waiting_for},
    )
    message_queue(
        kind=MessageKind.PROMISE_STATUS,
        customer=new.customer,
        context={
            "promise_id": new.pk,
            "kind": new.kind,
            "waiting_for": waiting_for,
            "next_contact_at": next_contact_at.isoformat(),
            "owner_id": new.owner_id,
        },
        # Each report closes the promise it was made on, so its id counts the reports: a double submit
        # of the same form queues one mail.
        dedupe=f"promise-{locked.pk}:status",
        language=language,
    )
    with translation.override(settings.LANGUAGE_CODE):
        summary = _(
            "Customer told there is no answer yet (waiting for: %(waiting_for)s); next contact by %(due)s."
        ) % {"waiting_for": waiting_for, "due": timezone.localtime(next_contact_at).strftime("%Y-%m-%d %H:%M")}
    _journal(
        new,
        action="promise.no_answer_yet",
        summary=summary,
        actor=actor,
        waiting_for=waiting_for,
        next_contact_at=next_contact_at.isoformat(),
        old_promise_id=locked.pk,
    )
    return new


def promise_chain_ids(promise: Promise) -> list[int]:
    """`promise`'s id and those of the promises it replaces (moved, reported on), newest first: a request,
    feedback or mail names the promise that stood when it was written, which may be any of them."""
    chain = [promise.pk]
    earlier = promise.replaces_id
    while earlier is not None and earlier not in chain and len(chain) < 50:
        chain.append(earlier)
        earlier = Promise.objects.filter(pk=earlier).values_list("replaces_id", flat=True).first()
    return chain


def conversation_language(promise: Promise) -> str | None:
    """The language we speak with the customer about `promise`: that of the last mail we sent them about it
    (about it or an earlier version of it, the website request or feedback it answers, or the mail of ours
    they replied to), else the one they chose for their website request; None for their record's language.

    A customer who wrote in Dutch from the website and got our reply in Dutch gets the status note in Dutch,
    whatever language their record had before."""
    chain = promise_chain_ids(promise)
    requests = list(WebRequest.objects.filter(promise_id__in=chain).order_by("-pk").values_list("pk", "language"))
    feedback = list(Feedback.objects.filter(promise_id__in=chain).values_list("pk", flat=True))
    replied_to = InboundMail.objects.filter(promise_id__in=chain, outbox_message__isnull=False)
    about = (
        Q(context__promise_id__in=chain)
        | Q(context__request_id__in=[pk for pk, _language in requests])
        | Q(context__feedback_id__in=feedback)
        | Q(pk__in=replied_to.values("outbox_message_id"))
    )
    last_mail = (
        OutboxMessage.objects.filter(about, customer_id=promise.customer_id, recipient_user__isnull=True)
        .order_by("-pk")
        .values_list("language", flat=True)
        .first()
    )
    return last_mail or (requests[0][1] if requests else None)


# Warnings: the owner when a promise is due soon and when it is late, a lead when it stays late ------------

# At most this many of each warning per run; the job runs every few minutes and goes on where it stopped:
# oldest due first, and what a run warned is stamped, so the next run's batch starts after it.
WARN_BATCH = 200


def desk_leads() -> list:
    """Who is told of promises left late: active office staff in DESK_LEADS_GROUP, else the superusers."""
    users = get_user_model().objects.select_related("office_profile")
    leads = list(users.filter(OFFICE_STAFF, groups__name=settings.DESK_LEADS_GROUP).distinct().order_by("pk"))
    return leads or list(users.filter(is_superuser=True, is_active=True).order_by("pk"))


def _warn_once(*, promise_id: int, stamp: str, still_due: Q, kind: str, recipients, now: datetime) -> bool:
    """Queue one warning about one promise and stamp it, in one transaction; False if it no longer applies
    (kept, moved, voided, or warned by a run that overlapped this one)."""
    with transaction.atomic():
        promise = (
            Promise.objects.select_for_update(of=("self",))
            .select_related("customer", "owner")
            .filter(still_due, pk=promise_id, state=PromiseState.OPEN, **{f"{stamp}__isnull": True})
            .first()
        )
        if promise is None:
            return False
        for user in recipients(promise):
            staff_message_queue(
                kind=kind,
                user=user,
                customer=promise.customer,
                context={"promise_id": promise.pk},
                dedupe=f"promise-{promise.pk}:user-{user.pk}",
            )
        setattr(promise, stamp, now)
        promise.save(update_fields=[stamp])
    return True


def promises_warn(*, now: datetime | None = None) -> dict[str, int]:
    """Tell owners of promises due soon or late, and leads of those late by PROMISE_ESCALATE_AFTER office
    hours; each once per promise (a moved promise is a new row and is warned afresh). Idempotent."""
    now = now or timezone.now()
    open_promises = Promise.objects.filter(state=PromiseState.OPEN)
    soon = Q(due_at__gt=now, due_at__lte=now + settings.PROMISE_DUE_SOON)
    late = Q(due_at__lte=now)
    counts = {"due_soon": 0, "late": 0, "escalated": 0}
    owner = lambda promise: [promise.owner]  # noqa: E731
    for name, stamp, condition, kind in (
        ("due_soon", "warned_due_soon_at", soon, MessageKind.PROMISE_DUE_SOON),
        ("late", "warned_late_at", late, MessageKind.PROMISE_LATE),
    ):
        ids = _oldest_first(open_promises.filter(condition, **{f"{stamp}__isnull": True})).values_list("pk", flat=True)
        for promise_id in ids[:WARN_BATCH]:
            counts[name] += _warn_once(
                promise_id=promise_id, stamp=stamp, still_due=condition, kind=kind, recipients=owner, now=now
            )
    # Office time late is at most wall time late: the query narrows, working_time_between decides. The
    # earlier a promise was due, the more office time it is late, so once one is not late enough, none
    # after it is: the run stops there rather than weigh a thousand promises a weekend made wall-time late.
    after = settings.PROMISE_ESCALATE_AFTER
    candidates = _oldest_first(open_promises.filter(escalated_at__isnull=True, due_at__lte=now - after))
    leads = None
    for promise_id, due_at in candidates.values_list("pk", "due_at")[:WARN_BATCH]:
        if working_time_between(due_at, now) < after:
            break
        if leads is None:
            leads = desk_leads()
        counts["escalated"] += _warn_once(
            promise_id=promise_id,
            stamp="escalated_at",
            still_due=late,
            kind=MessageKind.PROMISE_ESCALATED,
            recipients=lambda promise, leads=leads: leads,
            now=now,
        )
    return counts


def _oldest_first(promises):
    # Said here, not left to Promise.Meta.ordering: the most pressing warnings go first when a run has more
    # than a batch, and the escalations' early stop is only right in this order.
    return promises.order_by("due_at", "pk")

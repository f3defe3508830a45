"""Promises: made, kept, moved, voided, handed over. Each change is one journal entry of the customer."""

from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from customers.selectors import is_office_staff
from desk.models import Promise, PromiseKind, PromiseState
from journal.models import JournalEntry
from journal.services import journal_record, recorded_actor


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
def promise_void(*, promise: Promise, reason: str, actor: AbstractBaseUser | None = None, code: str = "") -> Promise:
    """Close `promise` unkept because it no longer applies (the visit it was about moved, was cancelled…)."""
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
    )
    return promise


@transaction.atomic
def promise_move(
    *, promise: Promise, due_at: datetime, actor: AbstractBaseUser | None = None, reason: str = "", code: str = ""
) -> Promise:
    """Give `promise` a new due time: the old one is closed as moved and a new one replaces it, so nobody
    acts on the old time (seed story 001: called at the old time by someone else)."""
    old = _locked_open(promise)
    old.state = PromiseState.MOVED
    old.closed_reason = reason.strip()
    old.closed_at = timezone.now()
    old.save(update_fields=["state", "closed_reason", "closed_at"])
    new = Promise.objects.create(
        kind=old.kind,
        customer=old.customer,
        appointment=old.appointment,
        owner=old.owner,
        due_at=due_at,
        note=old.note,
        made_in=old.made_in,
        replaces=old,
        created_by=recorded_actor(actor),
    )
    _journal(
        new,
        action="promise.moved",
        summary=_("Promise moved: %(kind)s, now by %(due)s.")
        % {"kind": new.get_kind_display(), "due": timezone.localtime(due_at).strftime("%Y-%m-%d %H:%M")},
        actor=actor,
        old_promise_id=old.pk,
        old_due_at=old.due_at.isoformat(),
        reason=old.closed_reason,
        reason_code=code,
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

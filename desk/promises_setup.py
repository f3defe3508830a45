"""Promises' wiring: they follow their visit (appointments.signals) and the outbox knows their mails.

Called once from DeskConfig.ready(); connecting and registering again replaces, never doubles.
"""

from datetime import datetime

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from appointments.formatting import format_day, format_duration, format_time, format_window
from appointments.models import Appointment
from appointments.signals import visit_cancelled, visit_rebooked, visit_time_changed, visit_time_withdrawn
from customers.models import Firm
from customers.selectors import office_person_contact
from desk.models import Promise, PromiseKind, PromiseState
from desk.working_time import working_time_between
from notifications.models import MessageKind, OutboxMessage
from notifications.registry import Audience, register_kind
from notifications.rendering import single_line
from notifications.superseded import superseded_reason


def on_visit_time_changed(
    sender, *, appointment, old_window_start, old_window_end, previous_status="", actor=None, **_
):
    from desk.services.promises import promises_follow_visit

    promises_follow_visit(
        appointment=appointment,
        old_window_start=old_window_start,
        old_window_end=old_window_end,
        previous_status=previous_status,
        actor=actor,
    )


def on_visit_time_withdrawn(sender, *, appointment, actor=None, **_):
    from desk.services.promises import promises_visit_time_withdrawn

    promises_visit_time_withdrawn(appointment=appointment, actor=actor)


def on_visit_rebooked(sender, *, appointment, rebooked_as, actor=None, **_):
    from desk.services.promises import promises_follow_rebooking

    promises_follow_rebooking(appointment=appointment, rebooked_as=rebooked_as, actor=actor)


def on_visit_cancelled(sender, *, appointment, reason="", actor=None, **_):
    from desk.services.promises import promises_visit_cancelled

    promises_visit_cancelled(appointment=appointment, reason=reason, actor=actor)


# The mails' data ----------------------------------------------------------------------------------------


def format_moment(moment: datetime) -> str:
    """'Mi, 4. März 2026, 13:05' in the active language and the firm's time zone."""
    return f"{format_day(moment)}, {format_time(moment)}"


def promise_admin_link(promise_id: int) -> str:
    return settings.SITE_URL + reverse("admin:desk_promise_change", args=[promise_id])


def _promise(message: OutboxMessage) -> Promise | None:
    promise_id = (message.context or {}).get("promise_id")
    return (
        Promise.objects.select_related("customer", "owner", "appointment").filter(pk=promise_id).first()
        if promise_id
        else None
    )


def person_name(user) -> str:
    return single_line(user.get_full_name() or user.get_username())


def promise_staff_context(message: OutboxMessage) -> dict:
    """What an owner or a lead reads about a promise: what, for whom (with a phone to call), due when."""
    promise = _promise(message)
    if promise is None:
        return {}
    customer = promise.customer
    now = timezone.now()
    return {
        "promise_kind": promise.get_kind_display(),
        "promise_note": single_line(promise.note),
        "customer_name": single_line(customer.full_name),
        "customer_phone": customer.phone.as_international if customer.phone else "",
        "customer_email": customer.email,
        "due": format_moment(promise.due_at),
        "late_by": format_duration(working_time_between(promise.due_at, now)) if promise.due_at < now else "",
        "owner_name": person_name(promise.owner),
        "visit": (
            f"D-{promise.appointment_id}, "
            f"{format_window(promise.appointment.window_start, promise.appointment.window_end)}"
            if promise.appointment_id
            else ""
        ),
        "promise_link": promise_admin_link(promise.pk),
    }


def promise_status_context(message: OutboxMessage) -> dict:
    """The "no answer yet" note: what we wait for, when the customer hears next, and from whom."""
    from django.contrib.auth import get_user_model

    data = message.context or {}
    owner = get_user_model().objects.select_related("office_profile").filter(pk=data.get("owner_id")).first()
    context = {
        "waiting_for": single_line(data.get("waiting_for", "")),
        "next_contact": format_moment(datetime.fromisoformat(data["next_contact_at"]))
        if data.get("next_contact_at")
        else "",
        "promise_kind": Promise(kind=data.get("kind", "")).get_kind_display() if data.get("kind") else "",
    }
    if owner is not None:
        # The person who owes the answer signs the note and gets the reply (not the customer's usual contact).
        context["responsible"] = office_person_contact(owner, firm=Firm.objects.first())
    return context


def _never_stale(message: OutboxMessage, *, now: datetime) -> str:
    # The customer's status note says what was true when the office wrote it; it goes out as written.
    return ""


def _warning_stale(message: OutboxMessage, *, now: datetime) -> str:
    # A "due soon" or "late" mail about a promise kept, moved or voided since would send the owner (or a lead)
    # after work that is done; a moved promise is a new row and warns afresh in its own time.
    state = Promise.objects.filter(pk=message.context.get("promise_id")).values_list("state", flat=True).first()
    return "" if state == PromiseState.OPEN else superseded_reason("promise_closed")


# The journal's sentences for promises, in the reader's language (journal.rendering). Reasons the system
# gives are said from their code and details; a reason the office typed is shown as typed.


def _journal_moment(iso: str) -> str:
    return format_moment(datetime.fromisoformat(iso))


def _kind(data: dict) -> str:
    return str(PromiseKind(data["kind"]).label)


def _system_reason(data: dict) -> str:
    code = data.get("reason_code", "")
    if code == "visit_moved":
        if data.get("rebooked_as_id"):
            return _("the missed visit was rebooked as D-%(new)s") % {"new": data["rebooked_as_id"]}
        if data.get("visit_window_start"):
            start = datetime.fromisoformat(data["visit_window_start"])
            end = datetime.fromisoformat(data["visit_window_end"])
            return _("the visit moved to %(window)s") % {"window": format_window(start, end)}
        return _("the visit was moved")
    if code == "visit_time_withdrawn":
        return _("we asked the customer to choose a new time for the visit")
    if code == "visit_cancelled":
        if data.get("cancel_reason"):
            return _("the visit was cancelled (%(reason)s)") % {"reason": data["cancel_reason"]}
        return _("the visit was cancelled")
    if code == "customer_moved":
        return _("The customer chose another time on the request page.")
    if code == "email_instead":
        return _("The customer asked for an answer by email instead of a call.")
    if code == "no_answer_yet":
        if data.get("waiting_for"):
            return _("No answer yet (waiting for: %(waiting_for)s); the customer was told.") % {
                "waiting_for": data["waiting_for"]
            }
        return _("No answer yet")
    return data.get("reason", "")


def render_made(entry) -> str:
    data = entry.data
    return _("Promise: %(kind)s by %(due)s (%(owner)s).") % {
        "kind": _kind(data),
        "due": _journal_moment(data["due_at"]),
        "owner": data["owner_name"],
    }


def render_kept(entry) -> str:
    if entry.data.get("late"):
        return _("Promise kept late: %(kind)s.") % {"kind": _kind(entry.data)}
    return _("Promise kept: %(kind)s.") % {"kind": _kind(entry.data)}


def render_voided(entry) -> str:
    data = entry.data
    reason = _system_reason(data)
    if not reason:
        return _("Promise voided: %(kind)s.") % {"kind": _kind(data)}
    return _("Promise voided: %(kind)s (%(reason)s).") % {"kind": _kind(data), "reason": reason}


def render_moved(entry) -> str:
    data = entry.data
    values = {"kind": _kind(data), "due": _journal_moment(data["due_at"]), "reason": _system_reason(data)}
    if values["reason"]:
        return _("Promise moved: %(kind)s, now by %(due)s (%(reason)s).") % values
    return _("Promise moved: %(kind)s, now by %(due)s.") % values


def render_reassigned(entry) -> str:
    data = entry.data
    return _("Promise handed over: %(kind)s, now %(owner)s.") % {"kind": _kind(data), "owner": data["owner_name"]}


def render_unchanged(entry) -> str:
    data = entry.data
    return _("Promise stays as it was: %(kind)s by %(due)s (%(reason)s).") % {
        "kind": _kind(data),
        "due": _journal_moment(data["due_at"]),
        "reason": _system_reason(data),
    }


def render_no_answer_yet(entry) -> str:
    data = entry.data
    return _("Customer told there is no answer yet (waiting for: %(waiting_for)s); next contact by %(due)s.") % {
        "waiting_for": data["waiting_for"],
        "due": _journal_moment(data["next_contact_at"]),
    }


def _register_journal_renderers() -> None:
    from journal.rendering import register_action

    for action, label, render in (
        ("promise.made", gettext_lazy("promise made"), render_made),
        ("promise.kept", gettext_lazy("promise kept"), render_kept),
        ("promise.voided", gettext_lazy("promise voided"), render_voided),
        ("promise.moved", gettext_lazy("promise moved"), render_moved),
        ("promise.reassigned", gettext_lazy("promise handed over"), render_reassigned),
        ("promise.unchanged", gettext_lazy("promise left as it was"), render_unchanged),
        ("promise.no_answer_yet", gettext_lazy("customer told: no answer yet"), render_no_answer_yet),
    ):
        register_action(action, label=label, render=render)


def setup() -> None:
    _register_journal_renderers()
    visit_time_changed.connect(on_visit_time_changed, sender=Appointment, dispatch_uid="desk.promises.time_changed")
    visit_time_withdrawn.connect(
        on_visit_time_withdrawn, sender=Appointment, dispatch_uid="desk.promises.time_withdrawn"
    )
    visit_cancelled.connect(on_visit_cancelled, sender=Appointment, dispatch_uid="desk.promises.cancelled")
    visit_rebooked.connect(on_visit_rebooked, sender=Appointment, dispatch_uid="desk.promises.rebooked")
    register_kind(MessageKind.PROMISE_STATUS, context=promise_status_context, stale_reason=_never_stale)
    for kind in (MessageKind.PROMISE_DUE_SOON, MessageKind.PROMISE_LATE, MessageKind.PROMISE_ESCALATED):
        register_kind(
            kind,
            context=promise_staff_context,
            stale_reason=_warning_stale,
            audience=Audience.STAFF,
            label=MessageKind(kind).label,
        )

"""My desk's list items, built in Python: a few hundred items through the template engine (an include and
half a dozen filters each) were three quarters of the page's time at 10,000 open promises (bench/desk_page.py),
as the board found for its blocks (dispatch/board.py). Everything is escaped by format_html."""

from datetime import date, datetime
from functools import lru_cache
from urllib.parse import urlencode

from django.urls import reverse
from django.utils import formats, timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.timesince import timesince
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from desk.models import Promise, PromiseKind

# Kinds whose keeping is a phone call: their link says so.
CALL_KINDS = {"call_back", "call_before_visit", "confirm_time", "call_bounced"}
# The contact that usually keeps a kind, preset in the form (journal.services.CONTACT_KINDS).
KEPT_BY_CONTACT = {
    **dict.fromkeys(CALL_KINDS, "phone_out"),
    **dict.fromkeys(("send_information", "send_quote", "reply_mail"), "email_out"),
}

# What the customer did, in a word, for the list of online changes (the entry's summary says the rest).
CHANGE_LABELS = {
    "appointment.scheduled": gettext_lazy("booked online"),
    "appointment.requested": gettext_lazy("requested online"),
    "appointment.rescheduled": gettext_lazy("moved online"),
    "appointment.cancelled": gettext_lazy("cancelled online"),
    "appointment.new_time_requested": gettext_lazy("asked for a new time"),
    "visit.rebooked": gettext_lazy("rebooked a missed visit"),
}

NOTE_LENGTH = 200


def _when(moment: datetime) -> str:
    local = timezone.localtime(moment)
    return f"{_day(local.date())} {local:%H:%M}"


@lru_cache(maxsize=64)
def _day_in(language: str, day: date) -> str:
    return formats.date_format(day, "D j.n.")


def _day(day: date) -> str:
    # A page names a few dozen different days at most; date_format per item was a fifth of the list's time.
    return _day_in(get_language(), day)


def _time(moment: datetime) -> SafeString:
    return format_html('<time datetime="{}">{}</time>', moment.isoformat(), _when(moment))


def _short(text: str) -> str:
    return text if len(text) <= NOTE_LENGTH else text[: NOTE_LENGTH - 1] + "…"


def _phone(customer) -> SafeString:
    phone = customer.phone
    # Not `if not phone`: its truth validates the number, and formatting it twice more is enough.
    if phone is None or not getattr(phone, "raw_input", phone):
        return mark_safe("")
    return format_html(' <a class="promise-phone" href="tel:{}">{}</a>', phone.as_e164, phone.as_international)


class Links:
    """URLs reversed once per page; an item only puts its id in."""

    def __init__(self, *, back: str = ""):
        self.customer = reverse("admin:customers_customer_change", args=[0]).replace("/0/", "/{}/")
        self.visit = reverse("admin:appointments_appointment_change", args=[0]).replace("/0/", "/{}/")
        self.follow_up = reverse("admin:appointments_missedvisitfollowup_change", args=[0]).replace("/0/", "/{}/")
        # Where the clerk logs the contact that keeps a promise: the journal's "log a contact" form with
        # the promise chosen, which comes back to My desk afterwards.
        self.contact = reverse("admin:journal_journalentry_contact", args=[0]).replace("/0/", "/{}/")
        self.back = urlencode({"next": back or reverse("desk:page")})

    def keep(self, promise: Promise) -> str:
        url = f"{self.contact.format(promise.customer_id)}?keeps_promise={promise.pk}&{self.back}"
        # The form comes with the visit the promise is about and the usual kind of contact: the clerk types
        # what was said.
        if promise.appointment_id:
            url += f"&appointment={promise.appointment_id}"
        if promise.kind in KEPT_BY_CONTACT:
            url += f"&contact={KEPT_BY_CONTACT[promise.kind]}"
        return url


def keep_label(promise: Promise) -> str:
    return _("Log the call that keeps it") if promise.kind in CALL_KINDS else _("Log the contact that keeps it")


def kind_labels() -> dict[str, str]:
    """The kinds' names in the active language, once per page (get_kind_display hashes every choice each time)."""
    return {value: str(label) for value, label in PromiseKind.choices}


def promise_item(promise: Promise, *, now: datetime, links: Links, show_owner: bool, kinds: dict) -> SafeString:
    late = promise.due_at < now
    customer = promise.customer
    meta = [format_html('<span class="promise-due">{} {}', _("due"), _time(promise.due_at))]
    if late:
        meta.append(
            format_html(
                ' <strong class="promise-late">{}</strong>',
                _("late by %(time)s") % {"time": timesince(promise.due_at, now, depth=1)},
            )
        )
    meta.append(mark_safe("</span>"))
    if promise.appointment_id:
        visit = promise.appointment
        meta.append(
            format_html(
                ' <a class="promise-visit" href="{}">D-{} · {} · {}–{}</a>',
                links.visit.format(visit.pk),
                visit.pk,
                visit.service_type.localized_name(),
                _when(visit.window_start),
                formats.time_format(timezone.localtime(visit.window_end), "H:i"),
            )
        )
    if show_owner:
        name = promise.owner.get_full_name() or promise.owner.get_username()
        meta.append(format_html(' <span class="promise-owner">{}</span>', _("owner: %(name)s") % {"name": name}))
    note = format_html('<p class="promise-note">{}</p>', _short(promise.note)) if promise.note else ""
    return format_html(
        '<li class="promise{}"><div class="promise-head"><span class="promise-kind">{}</span>'
        ' <a class="promise-customer" href="{}">{}</a>{}</div><div class="promise-meta">{}</div>{}'
        '<a class="promise-keep" href="{}">{}</a></li>',
        " is-late" if late else "",
        kinds.get(promise.kind, promise.kind),
        links.customer.format(customer.pk),
        customer.full_name,
        _phone(customer),
        mark_safe("".join(meta)),
        note,
        links.keep(promise),
        keep_label(promise),
    )


def promise_items(promises, *, now: datetime, links: Links, show_owner: bool) -> SafeString:
    kinds = kind_labels()
    return mark_safe(
        "".join(promise_item(p, now=now, links=links, show_owner=show_owner, kinds=kinds) for p in promises)
    )


def follow_up_items(attempts, *, links: Links) -> SafeString:
    return format_html_join(
        "",
        '<li class="follow-up"><div class="promise-head"><a class="promise-customer" href="{}">{}</a>{}</div>'
        '<div class="promise-meta"><span>{}</span> <span>D-{} · {}{}</span></div></li>',
        (
            (
                links.follow_up.format(attempt.pk),
                attempt.appointment.customer.full_name,
                _phone(attempt.appointment.customer),
                _("nobody home %(day)s") % {"day": _when(attempt.at)},
                attempt.appointment_id,
                attempt.appointment.service_type.localized_name(),
                f" · {attempt.technician}" if attempt.technician_id else "",
            )
            for attempt in attempts
        ),
    )


def change_items(entries, *, links: Links) -> SafeString:
    return format_html_join(
        "",
        '<li class="change"><div class="promise-head"><span class="promise-kind">{}</span>'
        ' <a class="promise-customer" href="{}">{}</a></div><div class="promise-meta">{}{}</div>'
        '<p class="promise-note">{}</p></li>',
        (
            (
                CHANGE_LABELS.get(entry.action, entry.action),
                links.customer.format(entry.customer_id),
                entry.customer.full_name,
                _time(entry.occurred_at),
                format_html(' <a href="{}">D-{}</a>', links.visit.format(entry.appointment_id), entry.appointment_id)
                if entry.appointment_id
                else "",
                _short(entry.summary),
            )
            for entry in entries
        ),
    )

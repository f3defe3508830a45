"""The desk's part of the journal's "log a contact" form: the open promise the contact keeps, and a promise
made in it ("I'll call you back on Thursday before 12"). Registered by desk/contact_setup.py; the journal
writes the entry and calls apply() in the same transaction, so the contact and its promises are one step."""

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from appointments.formatting import format_short_day, format_time
from appointments.forms import DateTimePickerField
from customers.models import OFFICE_STAFF
from desk.models import Promise, PromiseKind, PromiseState
from desk.owners import owner_for
from desk.services.promises import PromiseError, promise_keep, promise_make
from journal.services import ContactError

NOTE_MAX_LENGTH = 2000

# What a clerk promises in a conversation; the others are made by the desk itself (a reply owed, a bounce).
KINDS_PROMISED_IN_A_CONTACT = [
    PromiseKind.CALL_BACK,
    PromiseKind.SEND_INFORMATION,
    PromiseKind.SEND_QUOTE,
    PromiseKind.CHECK,
    PromiseKind.CALL_BEFORE_VISIT,
]


def _person(user) -> str:
    return " ".join((user.get_full_name() or user.get_username()).split())


def promise_label(promise: Promise) -> str:
    """'call back · due Tue 1.12.2026, 10:00 · Sandra Brinkmann': what, by when, whose."""
    due = f"{format_short_day(promise.due_at)}, {format_time(promise.due_at)}"
    return " · ".join([promise.get_kind_display(), _("due %(when)s") % {"when": due}, _person(promise.owner)])


class KeptPromiseField(forms.ModelChoiceField):
    """Offers the customer's open promises, but reads any promise id, so that one of another customer or
    one closed meanwhile gets its own message (from clean()) rather than "not one of the choices"."""

    def label_from_instance(self, promise):
        return promise_label(promise)

    def to_python(self, value):
        if value in self.empty_values:
            return None
        try:
            return Promise.objects.select_related("owner").get(pk=int(str(value)))
        except (ValueError, TypeError, Promise.DoesNotExist):
            raise ValidationError(_("This promise does not exist (any more)."), code="invalid_choice") from None


class OwnerField(forms.ModelChoiceField):
    def label_from_instance(self, user):
        return _person(user)


def office_people():
    return get_user_model().objects.filter(OFFICE_STAFF).order_by("first_name", "last_name", "username")


def fields(customer) -> dict[str, forms.Field]:
    open_promises = Promise.objects.none()
    if customer is not None:
        open_promises = (
            Promise.objects.filter(customer=customer, state=PromiseState.OPEN)
            .select_related("owner")
            .order_by("due_at", "pk")
        )
    kept = KeptPromiseField(
        label=gettext_lazy("this contact keeps"),
        queryset=open_promises,
        required=False,
        empty_label=gettext_lazy("(no promise)"),
    )
    if not open_promises.exists():
        # Nothing to choose: not shown, yet still read, so a promise posted from a page opened earlier (and
        # closed since) gets its own message rather than vanishing.
        kept.widget = forms.HiddenInput()
    kind = forms.ChoiceField(
        label=gettext_lazy("and we promised"),
        choices=[("", gettext_lazy("(nothing)")), *[(kind.value, kind.label) for kind in KINDS_PROMISED_IN_A_CONTACT]],
        required=False,
    )
    due_at = DateTimePickerField(label=gettext_lazy("by"), required=False)
    owner = OwnerField(
        label=gettext_lazy("who keeps it"),
        queryset=office_people(),
        required=False,
        initial=owner_for(customer=customer) if customer is not None else None,
        empty_label=gettext_lazy("(the customer's contact person)"),
    )
    note = forms.CharField(
        label=gettext_lazy("what exactly"),
        required=False,
        max_length=NOTE_MAX_LENGTH,
        widget=forms.TextInput(attrs={"maxlength": NOTE_MAX_LENGTH, "size": 40}),
    )
    return {
        "keeps_promise": kept,
        "promise_kind": kind,
        "promise_due_at": due_at,
        "promise_owner": owner,
        "promise_note": note,
    }


def clean(customer, data: dict) -> None:
    kept = data.get("keeps_promise")
    if kept is not None:
        if kept.customer_id != customer.pk:
            raise ContactError(_("This promise belongs to another customer."), field="keeps_promise")
        if kept.state != PromiseState.OPEN:
            raise ContactError(
                _("This promise is already closed (%(state)s).") % {"state": kept.get_state_display()},
                field="keeps_promise",
            )
    kind, due_at = data.get("promise_kind"), data.get("promise_due_at")
    if not kind and (due_at or data.get("promise_note")):
        raise ContactError(_("Please choose what was promised."), field="promise_kind")
    if kind and due_at is None:
        raise ContactError(_("Please give the date and time by which it is promised."), field="promise_due_at")
    if kind and due_at <= timezone.now():
        raise ContactError(_("That time has passed: a promise is due in the future."), field="promise_due_at")


def apply(entry, data: dict, actor) -> None:
    try:
        if data.get("keeps_promise") is not None:
            promise_keep(promise=data["keeps_promise"], entry=entry, actor=actor)
        if data.get("promise_kind"):
            # Checked again here: a form left open overnight must not store a promise due in the past.
            clean(entry.customer, data)
            promise_make(
                customer=entry.customer,
                kind=data["promise_kind"],
                owner=data.get("promise_owner") or owner_for(customer=entry.customer),
                due_at=data["promise_due_at"],
                appointment=entry.appointment,
                note=data.get("promise_note") or "",
                made_in=entry,
                actor=actor,
            )
    except PromiseError as refused:
        field = "keeps_promise" if refused.code in ("closed", "entry") else "promise_kind"
        raise ContactError(refused.message, field=field) from refused


def done(data: dict) -> str:
    said = []
    if data.get("keeps_promise") is not None:
        said.append(_("Promise kept: %(kind)s.") % {"kind": data["keeps_promise"].get_kind_display()})
    if data.get("promise_kind"):
        due = data["promise_due_at"]
        said.append(
            _("Promised: %(kind)s by %(due)s.")
            % {
                "kind": PromiseKind(data["promise_kind"]).label,
                "due": f"{format_short_day(due)}, {format_time(due)}",
            }
        )
    return " ".join(said)

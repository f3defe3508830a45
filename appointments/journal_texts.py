"""What this app's journal entries say, built from their data in the reader's language (journal.rendering).

Registered from AppointmentsConfig.ready(). Each renderer reads only the entry (no queries); the data
keys it needs are written by appointments/services (see rules._visit_journal_data).
"""

from datetime import datetime, timedelta

from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from appointments.formatting import format_duration, format_time, format_window
from journal.rendering import register_action

# Why an invitation to book online was closed: stored as the code, shown in the reader's language.
INVITATION_WITHDRAWN = "withdrawn"
INVITATION_BOOKED_OTHERWISE = "booked_otherwise"
INVITATION_CLOSE_REASONS = {
    INVITATION_WITHDRAWN: gettext_lazy("withdrawn by the office"),
    INVITATION_BOOKED_OTHERWISE: gettext_lazy("a visit was booked otherwise"),
}


def _moment(value: str) -> datetime:
    return datetime.fromisoformat(value)


def _window(data: dict, start: str = "window_start", end: str = "window_end") -> str:
    return format_window(_moment(data[start]), _moment(data[end]))


def _service(data: dict) -> str:
    names = data["service"]
    return names.get((translation.get_language() or "en")[:2]) or names["en"]


def _with_reason(text: str, reason: str) -> str:
    return f"{text} " + _("Reason: %(reason)s") % {"reason": reason} if reason else text


def _booked(entry) -> str:
    text = (
        _("Visit requested: %(service)s, %(window)s with %(technician)s.")
        if entry.action == "appointment.requested"
        else _("Visit scheduled: %(service)s, %(window)s with %(technician)s.")
    )
    return text % {
        "service": _service(entry.data),
        "window": _window(entry.data),
        "technician": entry.data["technician"],
    }


def _cancelled(entry) -> str:
    data = entry.data
    if data.get("reason_code") == "online":
        # The customer's own words stay as typed; the rest is said in the reader's language.
        reason = " ".join(filter(None, [_("Cancelled online by the customer."), data.get("note", "")]))
    else:
        reason = data["reason"]
    return _("Visit cancelled. Reason: %(reason)s") % {"reason": reason}


def _trip_started(entry) -> str:
    text = _("Technician on the way.")
    if entry.data.get("expected_arrival"):
        arrival = timezone.localtime(_moment(entry.data["expected_arrival"]))
        text += " " + _("Expected around %(time)s.") % {"time": formats.time_format(arrival, "H:i")}
    return text


def _completed(entry) -> str:
    report = (entry.data.get("report") or "").strip()
    return _("Visit completed.") + (" " + report if report else "")


def _missed(entry) -> str:
    data = entry.data
    waited = int(data["waited_minutes"])
    facts = [
        _("Technician was at the door at %(time)s; nobody was home.")
        % {"time": formats.time_format(timezone.localtime(entry.occurred_at), "H:i")},
        ngettext("Waited %(minutes)s minute.", "Waited %(minutes)s minutes.", waited) % {"minutes": waited},
        _("Card left at the door.") if data["card_left"] else _("No card left."),
    ]
    # Entries written before the journal kept only the fact held the coordinates (until they expire).
    if data.get("location_recorded") or data.get("latitude") is not None:
        facts.append(_("Location recorded by the phone."))
    if data.get("note"):
        facts.append(data["note"])
    return " ".join(facts)


def _rebooked(entry) -> str:
    return _("Missed visit of %(window)s rebooked as D-%(new)s.") % {
        "window": _window(entry.data, "attempt_window_start", "attempt_window_end"),
        "new": int(entry.data["rebooked_as"]),
    }


def _invited(entry) -> str:
    return _("Invited to book online: %(service)s.") % {"service": _service(entry.data)}


def _invitation_closed(entry) -> str:
    return _("Invitation to book online (%(service)s) closed: %(reason)s.") % {
        "service": _service(entry.data),
        "reason": INVITATION_CLOSE_REASONS[entry.data["reason"]],
    }


def _new_time_requested(entry) -> str:
    text = _("Asked the customer to choose a new time for %(window)s.") % {"window": _window(entry.data)}
    return _with_reason(text, entry.data["reason"])


def _rescheduled(entry) -> str:
    data = entry.data
    text = _("Visit moved from %(old)s to %(new)s with %(technician)s.") % {
        "old": _window(data["previous"]),
        "new": _window(data),
        "technician": data["technician"],
    }
    return _with_reason(text, data.get("reason") or "")


def _details_changed(entry) -> str:
    from appointments.models import Appointment

    names = entry.data.get("fields") or list(entry.data["changes"])
    labels = ", ".join(str(Appointment._meta.get_field(name).verbose_name) for name in names)
    return _("Visit details changed: %(fields)s.") % {"fields": labels}


def _replanned(entry) -> str:
    return _("Planned start changed from %(old)s to %(new)s; the promised window %(window)s stays.") % {
        "old": format_time(_moment(entry.data["previous_planned_start"])),
        "new": format_time(_moment(entry.data["planned_start"])),
        "window": _window(entry.data),
    }


def _duration_changed(entry) -> str:
    return _("Expected duration changed from %(old)s to %(new)s; planned %(time)s.") % {
        "old": format_duration(timedelta(minutes=float(entry.data["previous_duration_minutes"]))),
        "new": format_duration(timedelta(minutes=float(entry.data["duration_minutes"]))),
        "time": format_time(_moment(entry.data["planned_start"])),
    }


def _follow_up_flagged(entry) -> str:
    return _("Missed visit of %(date)s not rebooked within %(days)s days: the office follows up by phone.") % {
        "date": formats.date_format(timezone.localtime(_moment(entry.data["attempt_at"])), "SHORT_DATE_FORMAT"),
        "days": int(entry.data["days"]),
    }


def _follow_up_closed(entry) -> str:
    return _("Follow-up of the missed visit closed: %(note)s") % {"note": entry.data["note"]}


def register_journal_actions() -> None:
    for action, label, render in [
        ("appointment.requested", gettext_lazy("visit requested"), _booked),
        ("appointment.scheduled", gettext_lazy("visit booked"), _booked),
        ("appointment.confirmed", gettext_lazy("visit confirmed"), lambda entry: _("Requested visit confirmed.")),
        ("appointment.rescheduled", gettext_lazy("visit moved"), _rescheduled),
        ("appointment.updated", gettext_lazy("visit details changed"), _details_changed),
        ("appointment.replanned", gettext_lazy("planned start changed"), _replanned),
        ("appointment.duration_changed", gettext_lazy("expected duration changed"), _duration_changed),
        ("appointment.cancelled", gettext_lazy("visit cancelled"), _cancelled),
        ("appointment.new_time_requested", gettext_lazy("customer asked to choose a new time"), _new_time_requested),
        ("visit.trip_started", gettext_lazy("technician on the way"), _trip_started),
        ("visit.arrived", gettext_lazy("technician arrived"), lambda entry: _("Technician arrived on site.")),
        ("visit.completed", gettext_lazy("visit completed"), _completed),
        ("visit.missed", gettext_lazy("nobody home"), _missed),
        ("visit.rebooked", gettext_lazy("missed visit rebooked"), _rebooked),
        ("visit.follow_up_flagged", gettext_lazy("missed visit: office to call"), _follow_up_flagged),
        ("visit.follow_up_closed", gettext_lazy("follow-up closed"), _follow_up_closed),
        ("booking.invited", gettext_lazy("invited to book online"), _invited),
        ("booking.invitation_closed", gettext_lazy("invitation closed"), _invitation_closed),
    ]:
        register_action(action, label=label, render=render)

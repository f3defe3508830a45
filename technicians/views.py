"""The technician's "My day" pages: a phone in the van, one hand free, a weak connection.

Server-rendered, no JavaScript needed except to add the phone's location. A GET
only shows; every change is a POST with CSRF that redirects to a GET, so a
reload or the back button never repeats it. Refused input shows the page again
(400, or 409 when the visit has moved on meanwhile) and changes nothing.
"""

from datetime import date, timedelta
from functools import partial, wraps
from urllib.parse import quote

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from appointments.formatting import format_day, format_time
from appointments.models import Appointment, AppointmentStatus
from appointments.services import (
    TRANSITIONS,
    AppointmentError,
    has_window_opened,
    is_visit_day,
    visit_arrive,
    visit_complete,
    visit_mark_missed,
    visit_start_trip,
)
from config.security import permissions_policy
from journal.models import JournalEntry
from technicians.access import TechnicianLoginView, own_appointment, technician_required
from technicians.forms import (
    ArriveForm,
    BlankCardsForm,
    CompleteForm,
    NotHomeForm,
    SignOutOthersForm,
    StartTripForm,
    TechnicianAuthenticationForm,
)
from technicians.models import CalendarFeed
from technicians.services import devices_sign_out

Status = AppointmentStatus
UPCOMING_DAYS = 5
NOT_HOME_FROM = TRANSITIONS["mark_missed"].sources
MAPS_SEARCH = "https://www.google.com/maps/search/?api=1&query="  # opens the maps app on Android and iOS


def office_language(view):
    """Technicians use the office's language, not their phone's, unless they chose one on the page."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if settings.LANGUAGE_COOKIE_NAME not in request.COOKIES:
            translation.activate(settings.LANGUAGE_CODE)
            request.LANGUAGE_CODE = settings.LANGUAGE_CODE
        return view(request, *args, **kwargs)

    return wrapper


def technician_page(view):
    """What every page of a signed-in technician needs: never cached, the office's language, their profile."""
    return never_cache(office_language(technician_required(view)))


login = office_language(
    TechnicianLoginView.as_view(
        template_name="technician/login.html",
        authentication_form=TechnicianAuthenticationForm,
    )
)
logout = office_language(auth_views.LogoutView.as_view(next_page="technician:login"))


# Reading ------------------------------------------------------------------------


def _decorate(appointment: Appointment) -> Appointment:
    """What the templates show but cannot compute: the service's name in this language, a maps link."""
    appointment.service_name = appointment.service_type.localized_name(translation.get_language())
    address = f"{appointment.site_address}, {appointment.get_site_country_display()}"
    appointment.maps_url = MAPS_SEARCH + quote(address, safe="")
    return appointment


def _visits(technician, first_day: date, last_day: date):
    return (
        Appointment.objects.filter(technician=technician)
        .starting_on(first_day, last_day)
        # Requested visits are not confirmed yet: nobody drives there.
        .exclude(status=Status.REQUESTED)
        .select_related("customer", "service_type")
        # The order of the round: the planned starts, which the office may set apart from the windows' order.
        .order_by("planned_start", "id")
    )


@require_GET
@technician_page
def day(request):
    today = timezone.localdate()
    visits = [_decorate(visit) for visit in _visits(request.technician, today, today)]
    upcoming_days: dict[date, list[Appointment]] = {}
    later = _visits(request.technician, today + timedelta(days=1), today + timedelta(days=UPCOMING_DAYS))
    # Nobody drives to a cancelled visit, nor to one whose time the office gave up (the customer chooses anew).
    for visit in later.exclude(status__in=[Status.CANCELLED, Status.NEW_TIME]):
        upcoming_days.setdefault(timezone.localdate(visit.window_start), []).append(_decorate(visit))
    return render(
        request,
        "technician/day.html",
        {
            "today": today,
            "visits": visits,
            "upcoming_days": list(upcoming_days.items()),
            "blank_cards_form": BlankCardsForm(),
            "sign_out_others_form": SignOutOthersForm(),
            "has_calendar_link": CalendarFeed.objects.active().filter(technician=request.technician).exists(),
        },
    )


def _not_yet(appointment: Appointment, now) -> str:
    """Why "On my way" or "Not home" is not offered (yet), or ""."""
    if not is_visit_day(appointment, now):
        return _("This visit is on %(day)s: its buttons appear on that day.") % {
            "day": format_day(appointment.window_start)
        }
    if not has_window_opened(appointment, now):
        return _("“Not home” can be recorded from %(time)s on.") % {"time": format_time(appointment.window_start)}
    return ""


def _not_home_due(appointment: Appointment, now) -> bool:
    """The visit's own day and its window open, on the server's clock: the service's rule, asked before the form."""
    return is_visit_day(appointment, now) and has_window_opened(appointment, now)


def _completion_report(appointment: Appointment) -> str:
    """What the technician wrote on completing: kept in the journal entry of the completion, shown back to them."""
    if appointment.status != Status.COMPLETED:
        return ""
    entry = (
        JournalEntry.objects.filter(appointment=appointment, action=TRANSITIONS["complete"].action)
        .order_by("-id")
        .first()
    )
    return (entry.data or {}).get("report", "") if entry else ""


def _visit_page(request, appointment: Appointment, *, status: int = 200, error: str = "", **forms):
    def allowed(transition: str) -> bool:
        return appointment.status in TRANSITIONS[transition].sources

    now = timezone.now()
    on_its_day = is_visit_day(appointment, now)

    context = {
        "appointment": _decorate(appointment),
        "attempt": appointment.current_attempt(),
        "completion_report": _completion_report(appointment),
        "error": error,
        "start_trip_form": forms.get("start_trip_form") or StartTripForm(appointment=appointment),
        "arrive_form": ArriveForm(appointment=appointment),
        "complete_form": forms.get("complete_form") or CompleteForm(appointment=appointment),
        "can_start_trip": allowed("start_trip") and on_its_day,
        "can_arrive": allowed("arrive") and on_its_day,
        "can_complete": allowed("complete"),
        "can_mark_missed": allowed("mark_missed") and _not_home_due(appointment, now),
        "not_yet": _not_yet(appointment, now) if allowed("mark_missed") else "",
    }
    return render(request, "technician/visit.html", context, status=status)


@require_GET
@technician_page
def visit(request, pk):
    return _visit_page(request, own_appointment(request, pk))


# Acting -------------------------------------------------------------------------


def _refused(request, pk, error: AppointmentError, show_again):
    """The service said no. If the visit moved on meanwhile (a second tap, the office), show it as it is
    now (409); otherwise show the same page again with the reason (400). Nothing was saved either way."""
    if error.code == "illegal_transition":
        return _visit_page(request, own_appointment(request, pk), status=409, error=error.message)
    return show_again(status=400, error=error.message)


def _invalid_input_message() -> str:
    return _("Nothing was saved. Please check the marked fields.")


def _done(request, appointment: Appointment, message: str):
    messages.success(request, message)
    return redirect("technician:visit", pk=appointment.pk)


@require_POST
@technician_page
def start_trip(request, pk):
    appointment = own_appointment(request, pk)
    form = StartTripForm(request.POST, appointment=appointment)
    if not form.is_valid():
        return _visit_page(request, appointment, status=400, error=_invalid_input_message(), start_trip_form=form)
    # The server's clock, not the phone's: the customer is told this time.
    expected_arrival = timezone.now() + timedelta(minutes=form.cleaned_data["minutes"])
    try:
        appointment = visit_start_trip(appointment=appointment, actor=request.user, expected_arrival=expected_arrival)
    except AppointmentError as error:
        return _refused(request, pk, error, partial(_visit_page, request, appointment, start_trip_form=form))
    return _done(
        request,
        appointment,
        _("On your way. The customer has been told: around %(time)s.") % {"time": format_time(expected_arrival)},
    )


@require_POST
@technician_page
def arrive(request, pk):
    appointment = own_appointment(request, pk)
    try:
        appointment = visit_arrive(appointment=appointment, actor=request.user)
    except AppointmentError as error:
        return _refused(request, pk, error, partial(_visit_page, request, appointment))
    return _done(request, appointment, _("Arrival recorded."))


@require_POST
@technician_page
def complete(request, pk):
    appointment = own_appointment(request, pk)
    form = CompleteForm(request.POST, appointment=appointment)
    if not form.is_valid():
        return _visit_page(request, appointment, status=400, error=_invalid_input_message(), complete_form=form)
    try:
        appointment = visit_complete(appointment=appointment, actor=request.user, report=form.cleaned_data["report"])
    except AppointmentError as error:
        return _refused(request, pk, error, partial(_visit_page, request, appointment, complete_form=form))
    return _done(request, appointment, _("Visit completed."))


@require_POST
@technician_page
def sign_out_others(request):
    """A lost or stolen phone stays signed in for weeks: from the phone in their hand a technician ends every
    other session of theirs at once, without waiting for the office. Their calendar link stops too, always: a
    lost phone is why anyone presses this, and its calendar app would keep fetching customers' addresses."""
    if devices_sign_out(user=request.user, actor=request.user, keep_session=request.session):
        messages.success(
            request,
            _(
                "You are signed out on all other devices, and your calendar link is stopped. You stay signed in on "
                "this one. Ask the office for a new calendar link for your new phone."
            ),
        )
    else:
        messages.success(request, _("You are signed out on all other devices. You stay signed in on this one."))
    return redirect("technician:day")


def _not_home_page(request, appointment: Appointment, form: NotHomeForm, *, status: int = 200, error: str = ""):
    context = {"appointment": _decorate(appointment), "form": form, "error": error}
    return render(request, "technician/not_home.html", context, status=status)


@require_http_methods(["GET", "POST"])
@technician_page
# "Add my location" (static/technician/location.js): the only page that asks where someone is.
@permissions_policy(geolocation=["self"])
def not_home(request, pk):
    appointment = own_appointment(request, pk)
    if request.method == "GET":
        if appointment.status not in NOT_HOME_FROM or not _not_home_due(appointment, timezone.now()):
            # Already recorded (the back button), no longer due, or not yet (a bookmark, a link opened
            # too early): the visit page says which, and from when.
            return redirect("technician:visit", pk=appointment.pk)
        return _not_home_page(request, appointment, NotHomeForm(appointment=appointment))
    form = NotHomeForm(request.POST, appointment=appointment)
    if not form.is_valid():
        return _not_home_page(request, appointment, form, status=400, error=_invalid_input_message())
    try:
        appointment = visit_mark_missed(appointment=appointment, actor=request.user, **form.cleaned_data)
    except AppointmentError as error:
        return _refused(request, pk, error, partial(_not_home_page, request, appointment, form))
    # missed_at is the attempt's own timestamp.
    return _done(request, appointment, _("Recorded at %(time)s.") % {"time": format_time(appointment.missed_at)})

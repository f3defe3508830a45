"""The dispatch board's day view and the move it offers (drag and drop, or the move page without JavaScript).

A GET only shows. A move is a POST with CSRF that calls appointments.services.appointment_plan_move and
redirects to the board, which shows what happened as a message; a refused move changes nothing.
"""

from datetime import date, timedelta
from urllib.parse import urlencode

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from appointments.availability import within_working_hours
from appointments.closed_days import closed_reason
from appointments.formatting import format_day, format_time, format_window_short
from appointments.models import Appointment, local_midnight
from appointments.services import AppointmentError, appointment_plan_move
from config.security import allow_style_attributes
from dispatch.access import office_context, office_required
from dispatch.board import SNAP_MINUTES, build_day
from dispatch.forms import MoveForm, is_plannable_day


def board_page(view):
    """Office staff only, never cached: a board from the cache would show yesterday's plan."""
    return never_cache(office_required(view))


# An id the database could hold; longer digit strings are a hand-edited link, not a technician.
LONGEST_ID = 18


def _is_id(value: str) -> bool:
    # isdigit() alone takes "²" and other Unicode digits that int() refuses.
    return value.isascii() and value.isdigit() and len(value) <= LONGEST_ID


def _ids(request, name: str, unreadable: str) -> list[int]:
    """The ids in ?name=; values that are none (a hand-edited link) are left out, the first named in a
    warning (one, however many: a link with thousands must not fill the session with messages)."""
    values = request.GET.getlist(name)
    if bad := next((value for value in values if value and not _is_id(value)), None):
        messages.warning(request, unreadable % {"value": bad})
    return [int(value) for value in values if _is_id(value)]


def _parse_day(value: str | None) -> date | None:
    try:
        day = date.fromisoformat(value) if value else None
    except ValueError:
        return None
    return day if day is None or is_plannable_day(day) else None


def day_url(day: date, *, technician_ids: list[int] = (), service_type_id: int | None = None) -> str:
    query = [("day", day.isoformat()), *(("technician", pk) for pk in technician_ids)]
    if service_type_id:
        query.append(("service", service_type_id))
    return f"{reverse('dispatch:day')}?{urlencode(query)}"


@board_page
@require_http_methods(["GET", "HEAD"])
@allow_style_attributes
def day(request):
    today = timezone.localdate()
    shown_day = _parse_day(request.GET.get("day"))
    if request.GET.get("day") and shown_day is None:
        messages.error(
            request, _("“%(value)s” is not a day the board can show; it shows today.") % {"value": request.GET["day"]}
        )
    shown_day = shown_day or today
    technician_ids = _ids(request, "technician", _("There is no technician “%(value)s”; showing all technicians."))
    service_ids = _ids(request, "service", _("There is no service type “%(value)s”; showing every service."))
    service_type_id = service_ids[0] if service_ids else None
    filters = {"technician_ids": technician_ids, "service_type_id": service_type_id}
    board = build_day(
        shown_day,
        technician_ids=technician_ids,
        service_type_id=service_type_id,
        back_to=day_url(shown_day, **filters),
    )
    return render(
        request,
        "dispatch/day.html",
        office_context(
            request,
            with_sidebar=False,
            title=_("Dispatch board"),
            subtitle=format_day(shown_day),
            board=board,
            day_label=format_day(shown_day),
            is_today=shown_day == today,
            previous_url=day_url(shown_day - timedelta(days=1), **filters),
            next_url=day_url(shown_day + timedelta(days=1), **filters),
            today_url=day_url(today, **filters),
            this_url=day_url(shown_day, **filters),
            selected_technicians=technician_ids,
            selected_service=service_type_id,
            snap_minutes=SNAP_MINUTES,
        ),
    )


def _back_to(request, form: MoveForm, fallback: str) -> str:
    return _safe(request, form.data.get("next", "")) or fallback


def _safe(request, url: str) -> str:
    """A URL of this site to return to, or "" (never somewhere else: an open redirect)."""
    if url and url_has_allowed_host_and_scheme(url, {request.get_host()}, request.is_secure()):
        return url
    return ""


def _apply_move(request, appointment: Appointment, form: MoveForm) -> str | None:
    """Moves the visit as the form says; returns why not, or None after a success message."""
    planned_start = form.planned_start()
    before = (appointment.technician_id, appointment.window_start, appointment.window_end)
    if planned_start + appointment.expected_duration > local_midnight(form.cleaned_data["day"] + timedelta(days=1)):
        return _("A visit must end on the day it starts; choose an earlier time.")
    try:
        result = appointment_plan_move(
            appointment=appointment,
            technician=form.cleaned_data["technician"],
            planned_start=planned_start,
            actor=request.user,
            expected_version=form.cleaned_data["version"],
        )
    except AppointmentError as error:
        return error.message
    moved = result.appointment
    reference = f"D-{moved.pk}"
    window = f"{format_time(moved.window_start)}–{format_time(moved.window_end)}"
    if (moved.technician_id, moved.window_start, moved.window_end) == before:
        messages.success(
            request,
            _(
                "Re-ordered: %(reference)s now planned %(time)s; the customer's window %(window)s is unchanged,"
                " nobody was told."
            )
            % {"reference": reference, "time": format_time(moved.planned_start), "window": window},
        )
    elif result.customer_told and not appointment.customer.email:
        # The change mail has nowhere to go: the office must not believe the customer knows.
        messages.warning(
            request,
            _(
                "Moved %(reference)s to %(technician)s, %(window)s; the customer has no email address,"
                " please call them."
            )
            % {
                "reference": reference,
                "technician": moved.technician,
                "window": format_window_short(moved.window_start, moved.window_end),
            },
        )
    elif result.customer_told:
        messages.success(
            request,
            _("Moved %(reference)s to %(technician)s, %(window)s; the customer is told by email.")
            % {
                "reference": reference,
                "technician": moved.technician,
                "window": format_window_short(moved.window_start, moved.window_end),
            },
        )
    else:
        messages.success(
            request,
            _(
                "Planned %(reference)s with %(technician)s, %(window)s; the request is not confirmed yet,"
                " nobody was told."
            )
            % {
                "reference": reference,
                "technician": moved.technician,
                "window": format_window_short(moved.window_start, moved.window_end),
            },
        )
    _tell_about_the_day(request, moved)
    return None


def _tell_about_the_day(request, moved: Appointment) -> None:
    """The office may plan outside working hours or on a closed day on purpose (an urgent repair), so
    the move is done; but a drop a little too far right must not pass unnoticed, as in the admin."""
    if not within_working_hours(moved):
        messages.warning(
            request,
            _("D-%(id)s lies outside %(technician)s's working hours. It is booked as entered; please check.")
            % {"id": moved.pk, "technician": moved.technician},
        )
    day = timezone.localdate(moved.planned_start)
    if reason := closed_reason(day):
        messages.warning(
            request,
            _("D-%(id)s is on a closed day, %(day)s: %(reason)s. It is booked as entered; please check.")
            % {"id": moved.pk, "day": format_day(day), "reason": reason},
        )


def _appointment(pk) -> Appointment | None:
    return Appointment.objects.select_related("customer", "service_type", "technician").filter(pk=pk).first()


@board_page
@require_http_methods(["GET", "HEAD", "POST"])
def move(request):
    """The drop on the board. A GET (a bookmark, a prefetch) changes nothing and shows the board."""
    if request.method != "POST":
        return redirect("dispatch:day")
    form = MoveForm(request.POST)
    fallback = reverse("dispatch:day")
    if not form.is_valid():
        messages.error(request, _("Nothing was moved: %(errors)s") % {"errors": form.error_text()})
        return redirect(_back_to(request, form, fallback))
    appointment = _appointment(form.cleaned_data["appointment"])
    if appointment is None:
        messages.error(request, _("Nothing was moved: this visit does not exist."))
        return redirect(_back_to(request, form, fallback))
    if problem := _apply_move(request, appointment, form):
        messages.error(request, _("Nothing was moved: %(errors)s") % {"errors": problem})
    return redirect(_back_to(request, form, day_url(form.cleaned_data["day"])))


@board_page
@require_http_methods(["GET", "HEAD", "POST"])
def move_form(request, pk: int):
    """The move without drag and drop (keyboard, no JavaScript): technician, day and time in a form."""
    appointment = _appointment(pk)
    if appointment is None:
        raise Http404(_("This visit does not exist."))
    local_start = timezone.localtime(appointment.planned_start)
    status = 200
    problem = None
    if request.method == "POST":
        data = request.POST.copy()
        data["appointment"] = str(appointment.pk)
        form = MoveForm(data)
        if form.is_valid():
            problem = _apply_move(request, appointment, form)
            if problem is None:
                return redirect(_back_to(request, form, day_url(form.cleaned_data["day"])))
        status = 400
    else:
        form = MoveForm(
            initial={
                "appointment": appointment.pk,
                "technician": appointment.technician_id,
                "day": local_start.date(),
                "time": local_start.time().replace(second=0, microsecond=0),
                "version": appointment.version,
                "next": _safe(request, request.GET.get("next", "")) or day_url(local_start.date()),
            }
        )
    return render(
        request,
        "dispatch/move.html",
        office_context(
            request,
            title=_("Move %(reference)s") % {"reference": f"D-{appointment.pk}"},
            appointment=appointment,
            form=form,
            problem=problem,
            window=format_window_short(appointment.window_start, appointment.window_end),
            planned=formats.time_format(local_start, "H:i"),
            board_url=_back_to(request, form, day_url(local_start.date())) if form.is_bound else form.initial["next"],
        ),
        status=status,
    )

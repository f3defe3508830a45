"""The board's "find a time": /board/find/ shows the next free windows, /board/find/book/ books one."""

from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from appointments.availability import booking_days, free_windows
from appointments.closed_days import closed_reason
from appointments.formatting import format_day, format_time, format_window
from appointments.services import AppointmentError, appointment_schedule
from customers.models import Customer
from dispatch.access import office_context
from dispatch.find import find_offers
from dispatch.forms_find import BookForm, FindForm
from dispatch.views import board_page


def _customer(request):
    """The customer named by ?customer=<id>, or None with a warning when the id names nobody."""
    value = request.GET.get("customer", "")
    if not value:
        return None
    try:
        return Customer.objects.get(pk=int(value))
    except (ValueError, Customer.DoesNotExist):
        messages.warning(
            request, _("There is no customer “%(value)s”; the times are shown without a customer.") % {"value": value}
        )
        return None


def _admin_add_url(*, service_type, technician, window_start) -> str:
    """The admin's add page prefilled with the offer; the clerk picks the customer there."""
    prefill = {
        "service_type": service_type.pk,
        "technician": technician.pk,
        # Local wall-clock time, as the add page's date and time fields show it.
        "window_start": timezone.localtime(window_start).strftime("%Y-%m-%dT%H:%M"),
    }
    return f"{reverse('admin:appointments_appointment_add')}?{urlencode(prefill)}"


@board_page
def find(request):
    first_day = booking_days()[0]
    customer = _customer(request)
    searched = "service_type" in request.GET
    # A link from the week may name a technician before any service is chosen: it starts the form.
    initial = {name: request.GET[name] for name in ("technician", "first_day") if name in request.GET}
    data = request.GET
    if searched and not data.get("first_day"):
        # Searched from the first bookable day: the date field shows it, as its help text says.
        data = data.copy()
        data["first_day"] = first_day.isoformat()
    form = FindForm(data if searched else None, first_day=first_day, initial={} if searched else initial)
    offers = None
    if searched and form.is_valid():
        service_type = form.cleaned_data["service_type"]
        offers = find_offers(
            service_type=service_type,
            first_day=form.cleaned_data["first_day"],
            technician=form.cleaned_data["technician"],
        )
        # Without a customer chosen first, each option opens the admin's add page prefilled with it.
        offers = [
            {
                "offer": offer,
                "options": [
                    {
                        "option": option,
                        "add_url": _admin_add_url(
                            service_type=service_type, technician=option.technician, window_start=offer.start
                        ),
                    }
                    for option in offer.options
                ],
            }
            for offer in offers
        ]
    return render(
        request,
        "dispatch/find.html",
        office_context(
            request,
            title=_("Find a time"),
            form=form,
            customer=customer,
            offers=offers,
            searched_first_day=form.cleaned_data.get("first_day") if form.is_bound and form.is_valid() else None,
        ),
    )


def _back_to_offers(data) -> HttpResponseRedirect:
    """The find page as the clerk left it: the same service, customer, earliest day and technician filter."""
    query = {
        "service_type": data.get("service_type", ""),
        "customer": data.get("customer", ""),
        "first_day": data.get("first_day", ""),
        "technician": data.get("technician_filter", ""),
    }
    return HttpResponseRedirect(f"{reverse('dispatch:find')}?{urlencode({k: v for k, v in query.items() if v})}")


def _still_free(*, service_type, technician, window_start):
    """The offered window if it is still free for this technician, by the rule the page offered it by."""
    day = timezone.localdate(window_start)
    (offered,) = free_windows(service_type=service_type, technician=technician, first_day=day, last_day=day)
    for window in offered.windows:
        if window.start == window_start and technician.pk in window.technician_ids:
            return window
    return None


@board_page
def find_book(request):
    if request.method != "POST":
        # A GET never books: whoever lands here (an old tab, a bookmark) sees the offers instead.
        return HttpResponseRedirect(reverse("dispatch:find"))
    form = BookForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, _("Nothing was booked: %(reason)s") % {"reason": error})
        return _back_to_offers(request.POST)
    customer = form.cleaned_data["customer"]
    service_type = form.cleaned_data["service_type"]
    technician = form.cleaned_data["technician"]
    window_start = form.cleaned_data["window_start"]
    day = timezone.localdate(window_start)
    reason = closed_reason(day)
    if reason:
        messages.error(
            request,
            _("Nothing was booked: the firm is closed on %(day)s (%(reason)s).")
            % {"day": format_day(day), "reason": reason},
        )
        return _back_to_offers(request.POST)
    window = _still_free(service_type=service_type, technician=technician, window_start=window_start)
    if window is None:
        messages.error(
            request,
            _("%(technician)s is no longer free at %(when)s. Nothing was booked; these are the times free now.")
            % {
                "technician": technician,
                "when": format_window(window_start, window_start + service_type.arrival_window),
            },
        )
        return _back_to_offers(request.POST)
    try:
        appointment = appointment_schedule(
            customer=customer,
            service_type=service_type,
            technician=technician,
            window_start=window.start,
            window_end=window.end,
            actor=request.user,
            # The office gets what the customer would: inside the technician's working hours.
            require_working_hours=True,
        )
    except AppointmentError as exc:
        messages.error(request, _("Nothing was booked: %(reason)s") % {"reason": exc.message})
        return _back_to_offers(request.POST)
    messages.success(
        request,
        _("D-%(id)s booked for %(customer)s: %(window)s with %(technician)s, planned at %(start)s.")
        % {
            "id": appointment.pk,
            "customer": customer,
            "window": format_window(appointment.window_start, appointment.window_end),
            "technician": technician,
            "start": format_time(appointment.planned_start),
        },
    )
    return HttpResponseRedirect(reverse("admin:appointments_appointment_change", args=[appointment.pk]))

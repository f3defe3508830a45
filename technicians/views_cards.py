"""PDF cards for technicians: the card of one visit, the day's pack, blank cards."""

import re
from datetime import date

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from technicians.access import own_appointment
from technicians.forms import DEFAULT_BLANK_CARDS, BlankCardsForm
from technicians.views import technician_page

ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# A pack is printed for a coming day, or again for a recent one; no further.
DAY_PACK_REACH_DAYS = 366
# appointments.cards is imported inside the views: WeasyPrint takes seconds to
# import, and config.urls imports this module, so every process that merely
# reverses a URL (each mail-sending worker) would pay for it.


def _pdf(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@require_GET
@technician_page
def missed_card(request, pk):
    from appointments.cards import PACK_STATUSES, render_visit_card

    appointment = own_appointment(request, pk)
    attempt = appointment.current_attempt()
    if attempt is None and appointment.status not in PACK_STATUSES:
        # "We were at your door" for a cancelled or completed visit, or one whose time the office gave up,
        # would be untrue; the visit page shows what became of it.
        messages.info(request, _("There is no card for this visit: nobody is to go there now."))
        return redirect("technician:visit", pk=appointment.pk)
    # Filled from the attempt if the visit is missed now; a visit rebooked since gets the pre-filled card.
    content = render_visit_card(appointment=appointment, attempt=attempt)
    return _pdf(content, f"card-D-{appointment.pk}.pdf")


@require_GET
@technician_page
def day_pack(request, day):
    from appointments.cards import render_day_pack

    if day == "today":
        chosen = timezone.localdate()
    elif ISO_DAY.fullmatch(day):
        try:
            chosen = date.fromisoformat(day)
        except ValueError:
            raise Http404("No such day.") from None
    else:
        raise Http404("No such day.")
    if abs((chosen - timezone.localdate()).days) > DAY_PACK_REACH_DAYS:
        # Also keeps year 1 and 9999 away from date arithmetic that would overflow.
        raise Http404("No such day.")
    content = render_day_pack(technician=request.technician, day=chosen)
    return _pdf(content, f"cards-{chosen.isoformat()}.pdf")


@require_GET
@technician_page
def blank_cards(request):
    from appointments.cards import render_blank_cards

    form = BlankCardsForm(
        {
            "count": request.GET.get("count", str(DEFAULT_BLANK_CARDS)),
            "language": request.GET.get("language", settings.LANGUAGE_CODE),
        }
    )
    if not form.is_valid():
        # A hand-made link: one line of plain text, the first thing that was wrong.
        message = next(iter(form.errors.values()))[0]
        return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")
    return _pdf(render_blank_cards(**form.cleaned_data), "blank-cards.pdf")

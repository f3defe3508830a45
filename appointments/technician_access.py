"""Who may use the technician pages: a signed-in user with an active technician profile."""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.http import Http404
from django.urls import reverse

from appointments.models import Appointment, Technician


def technician_required(view):
    """Sets `request.technician`; anyone else goes to the technician sign-in page."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), reverse("technician:login"))
        # An inactive profile (someone who has left) no longer sees customers' addresses and phones.
        technician = Technician.objects.filter(user=request.user, is_active=True).first()
        if technician is None:
            raise Http404("No active technician profile for this user.")
        request.technician = technician
        return view(request, *args, **kwargs)

    return wrapper


def own_appointment(request, pk: int) -> Appointment:
    """The technician's own visit, or 404: a technician never sees another's customers."""
    appointment = (
        Appointment.objects.select_related("customer", "service_type", "technician")
        .filter(pk=pk, technician=request.technician)
        .first()
    )
    if appointment is None:
        raise Http404("Not one of your visits.")
    return appointment

"""Who may use the technician pages: a signed-in user with an active technician profile."""

from functools import wraps
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.views import redirect_to_login
from django.http import Http404
from django.urls import Resolver404, resolve, reverse

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


class TechnicianLoginView(auth_views.LoginView):
    """Signs a technician in and goes back to the technician page they came from, else to My day.

    `next` may only name a technician page: Django already refuses other hosts, and a path elsewhere on
    the site (the admin, the booking pages) would only lead a technician to a refusal.
    """

    next_page = "technician:day"

    def form_valid(self, form):
        response = super().form_valid(form)
        # A phone in the van stays signed in for weeks (TECHNICIAN_SESSION_DAYS), not the office's two: when a
        # phone is lost, "Sign out on all other devices" on My day (or the admin's "Sign out all devices") ends it.
        self.request.session.set_expiry(settings.TECHNICIAN_SESSION_AGE)
        return response

    def get_redirect_url(self):
        url = super().get_redirect_url()
        if not url:
            return ""
        parts = urlsplit(url)
        if parts.scheme or parts.netloc:
            return ""
        try:
            # resolve() takes the path as written, so '/technician/../admin/' matches nothing here.
            match = resolve(parts.path)
        except Resolver404:
            return ""
        if match.namespace != "technician" or match.url_name in {"login", "logout"}:
            return ""
        return url

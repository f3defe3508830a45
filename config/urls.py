from functools import cache
from pathlib import Path

from django.contrib import admin
from django.contrib.staticfiles import finders
from django.http import HttpResponse
from django.urls import include, path, re_path
from django.utils.translation import gettext_lazy as _
from django.views.generic import RedirectView

from config.health import readiness
from selfservice import views as selfservice_views


def health(request):
    """For load balancers and docker-compose: answers without touching the database."""
    return HttpResponse("ok", content_type="text/plain")


@cache
def _favicon() -> bytes:
    return Path(finders.find("favicon.ico")).read_bytes()


def favicon(request):
    """Browsers ask every site for /favicon.ico, whatever its pages link to: answer, don't 404."""
    response = HttpResponse(_favicon(), content_type="image/x-icon")
    response["Cache-Control"] = "public, max-age=86400"
    return response


admin.site.site_header = _("Doorstep office")
admin.site.site_title = _("Doorstep")
admin.site.index_title = _("Appointments, customers and contacts")

urlpatterns = [
    path("admin/", admin.site.urls),
    path("booking/", include("selfservice.urls")),
    path("technician/", include("technicians.urls")),
    path("board/", include("dispatch.urls")),
    path("account/", include("accounts.urls")),
    path("feedback/", include("desk.urls_feedback")),
    path("request/", include("desk.urls_requests")),
    path("desk/", include("desk.urls_page")),
    # Short, to be typed from a printed card: with or without a slash at the end, and with whatever
    # spaces or hyphens the reader typed (appointment_from_card_code sorts those out).
    re_path(r"^r/(?P<code>[^/]+)/?$", selfservice_views.card_open, name="card"),
    path("i18n/", include("django.conf.urls.i18n")),
    # Mail providers' webhooks (bounces, complaints; inbound mail): authenticated by anymail, no CSRF.
    path("anymail/", include("anymail.urls")),
    path("healthz", health, name="health"),
    path("readyz", readiness, name="readiness"),
    path("favicon.ico", favicon, name="favicon"),
    # The office's home page is the dispatch board (it sends anyone else to the sign-in).
    path("", RedirectView.as_view(pattern_name="dispatch:day", permanent=False)),
]

"""The project's URLs plus the baseline view every benchmark figure is compared to.

The benches that time pages (bench/run.py, bench/availability.py) install this urlconf (ROOT_URLCONF);
the application never routes to it.
"""

from django.http import HttpResponse
from django.urls import path

from config.urls import urlpatterns as project_urlpatterns
from customers.models import Customer


def minimal_view(request):
    """The cheapest page Django can serve: the same middleware and login as the admin, one tiny query.

    Comparing an admin page with this, in the same run on the same machine,
    leaves the figure that matters (how much the page itself costs) and
    cancels out how fast or busy the machine is.
    """
    found = Customer.objects.filter(pk=1).exists()
    return HttpResponse("yes" if found else "no", content_type="text/plain")


urlpatterns = [
    path("bench/minimal/", minimal_view, name="bench-minimal"),
    *project_urlpatterns,
]

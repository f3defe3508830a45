"""GET /technician/feed/<token>.ics: the technician's visits for their phone's calendar.

Calendar apps cannot sign in, so the long random token in the URL is the only key. It is looked up by
its SHA-256: the comparison happens on a hash an attacker cannot steer, so its timing tells nothing
about the stored tokens. A revoked or unknown token, or a technician who is no longer active, gets a
bare 404 that says nothing about which it was.
"""

import hashlib

from django.http import HttpResponse, HttpResponseNotFound
from django.utils.cache import get_conditional_response, patch_cache_control, quote_etag
from django.views.decorators.http import require_safe

from customers.models import Firm
from technicians.feed import render_feed
from technicians.models import CalendarFeed, token_hash
from technicians.services import feed_note_fetch

# Phones poll every few minutes to hours; a short max-age only spares a fetch reloaded at once.
MAX_AGE = 300
# secrets.token_urlsafe(32) is 43 characters; anything far longer is not ours and is not worth hashing.
LONGEST_TOKEN = 128


@require_safe
def feed(request, token: str):
    if len(token) > LONGEST_TOKEN:
        return HttpResponseNotFound()
    calendar_feed = (
        CalendarFeed.objects.active()
        .filter(token_hash=token_hash(token), technician__is_active=True)
        .select_related("technician")
        .first()
    )
    if calendar_feed is None:
        return HttpResponseNotFound()
    feed_note_fetch(feed=calendar_feed)
    body = render_feed(technician=calendar_feed.technician, firm=Firm.objects.first())
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    etag = quote_etag(hashlib.sha256(body).hexdigest())
    response["ETag"] = etag
    # Private: the URL is a secret, so no shared cache may keep the visits.
    patch_cache_control(response, private=True, max_age=MAX_AGE)
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return get_conditional_response(request, etag=etag, response=response)

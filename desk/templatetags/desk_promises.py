"""The customer's page shows their open promises without customers/ knowing the desk."""

from django import template
from django.urls import reverse
from django.utils import timezone

from desk.models import Promise, PromiseState
from desk.page_html import Links, keep_label

register = template.Library()


@register.inclusion_tag("admin/customers/_open_promises.html")
def customer_open_promises(customer):
    promises = []
    if customer is not None and customer.pk:
        promises = list(
            Promise.objects.filter(customer=customer, state=PromiseState.OPEN)
            .select_related("owner", "appointment")
            .order_by("due_at", "pk")
        )
        # The same way to keep one as from My desk and the promise's page, back to this customer.
        links = Links(back=reverse("admin:customers_customer_change", args=[customer.pk]))
        for promise in promises:
            promise.keep_url, promise.keep_label = links.keep(promise), keep_label(promise)
    return {"customer": customer, "promises": promises, "now": timezone.now()}

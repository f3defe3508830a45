"""The customer's page shows their open promises without customers/ knowing the desk."""

from django import template
from django.utils import timezone

from desk.models import Promise, PromiseState

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
    return {"customer": customer, "promises": promises, "now": timezone.now()}

"""Who in the office owns a new promise: the customer's responsible person, else the one for the
postcode area, else the office person whose turn it is."""

from django.contrib.auth import get_user_model
from django.db.models import Count, Q
from django.db.models.functions import Length

from customers.models import OFFICE_STAFF
from customers.selectors import is_office_staff
from desk.models import PostcodeArea, PromiseState


def owner_for(*, customer=None, postcode: str = ""):
    """The office person who owns new work for `customer` (or, for someone not yet a customer, `postcode`).

    None only when the firm has no active office staff at all.
    """
    # Office staff as OFFICE_STAFF says, not merely active: a responsible person who became a technician
    # or lost staff access would own a promise nobody sees on the desk, and mails would name the firm.
    if customer is not None and is_office_staff(customer.responsible):
        return customer.responsible
    postcode = (postcode or (customer.postcode if customer is not None else "")).replace(" ", "").upper()
    if postcode:
        area = (
            PostcodeArea.objects.filter(owner__in=get_user_model().objects.filter(OFFICE_STAFF))
            .annotate(length=Length("prefix"))
            .filter(prefix__in=[postcode[:n] for n in range(1, len(postcode) + 1)])
            .select_related("owner")
            .order_by("-length")
            .first()
        )
        if area is not None:
            return area.owner
    # Round robin by load: whoever has the fewest open promises, so a rule needs no stored turn.
    return (
        get_user_model()
        .objects.filter(OFFICE_STAFF)
        .annotate(open_promises=Count("promises", filter=Q(promises__state=PromiseState.OPEN)))
        .order_by("open_promises", "pk")
        .first()
    )

"""The customer's feedback page, from the link in the feedback request mail: no account, no JavaScript.

GET shows the form (mail scanners open links: a GET changes nothing); POST stores the rating and comment
through desk.services.feedback_receive, or the customer's "don't ask me again". A second submit changes
nothing and says "thank you, we already have it": the acknowledgement has named the owner and the reply
is being written to what was sent, so an edit would pull the ground from under it (a customer with more
to say replies to the acknowledgement, which reaches the owner).

The token ("<id>-<random secret>", compared in constant time) stays in the URL: the page loads nothing
from other sites and says Referrer-Policy: same-origin (no-referrer would make browsers send
"Origin: null" with our own POST, which the CSRF check refuses).
"""

from django import forms
from django.conf import settings
from django.shortcuts import render
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from appointments.formatting import format_day, format_time
from customers.models import Firm
from customers.selectors import office_person_contact, responsible_contact
from desk.models import Feedback, FeedbackChannel
from desk.models.feedback import FEEDBACK_COMMENT_MAX_LENGTH, RATING_MAX, RATING_MIN
from desk.services.feedback import (
    FeedbackError,
    feedback_receive,
    feedback_request_from_token,
    feedback_requests_opt_out,
)
from selfservice.ratelimit import bad_link_limited

RATING_LABELS = {
    1: _("1 star – poor"),
    2: _("2 stars – fair"),
    3: _("3 stars – good"),
    4: _("4 stars – very good"),
    5: _("5 stars – excellent"),
}
OPT_OUT = "opt_out"


class FeedbackForm(forms.Form):
    rating = forms.TypedChoiceField(
        label=_("How would you rate our visit?"),
        choices=[(value, RATING_LABELS[value]) for value in range(RATING_MIN, RATING_MAX + 1)],
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Please choose a rating from 1 to 5 stars."),
            "invalid_choice": _("Please choose a rating from 1 to 5 stars."),
        },
    )
    comment = forms.CharField(
        label=_("What was good, and what could we do better? (optional)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    no_more_requests = forms.BooleanField(
        label=_("Please don't ask me for feedback after future visits."), required=False
    )

    def clean_comment(self) -> str:
        # Counted as the page counts it: browsers send each line break as CR LF, the textarea counts one.
        comment = self.cleaned_data["comment"].replace("\r\n", "\n")
        if len(comment) > FEEDBACK_COMMENT_MAX_LENGTH:
            raise forms.ValidationError(
                _("Please keep your comment to %(limit_value)d characters (it has %(show_value)d)."),
                code="max_length",
                params={"limit_value": FEEDBACK_COMMENT_MAX_LENGTH, "show_value": len(comment)},
            )
        return comment


def _private(response):
    response["Referrer-Policy"] = "same-origin"
    response["Cache-Control"] = "no-store"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _in_customer_language(request, customer) -> None:
    # The customer's own language, unless they switched on the page.
    if settings.LANGUAGE_COOKIE_NAME not in request.COOKIES:
        translation.activate(customer.preferred_language)
        request.LANGUAGE_CODE = customer.preferred_language


def _page(request, template: str, context: dict, *, status: int = 200):
    return _private(render(request, f"desk/feedback/{template}", context, status=status))


def _thanks(request, context: dict, feedback_request, *, already: bool, status: int = 200):
    """What was received, who answers and by when."""
    feedback = Feedback.objects.select_related("owner__office_profile", "owner__technician").get(
        pk=feedback_request.feedback_id
    )
    context = {
        **context,
        "feedback": feedback,
        "already": already,
        "owner": office_person_contact(feedback.owner, firm=context["firm"]),
        "due_day": format_day(feedback.reply_due_at),
        "due_time": format_time(feedback.reply_due_at),
    }
    return _page(request, "thanks.html", context, status=status)


@require_http_methods(["GET", "POST"])
@never_cache
def feedback_page(request, token):
    feedback_request = feedback_request_from_token(token)
    firm = Firm.objects.first()
    if feedback_request is None:
        status = 429 if bad_link_limited(request) else 404
        return _page(request, "invalid.html", {"firm": firm}, status=status)
    customer = feedback_request.customer
    _in_customer_language(request, customer)
    context = {
        "firm": firm,
        "responsible": responsible_contact(customer, firm=firm),
        "appointment": feedback_request.appointment,
        "service": feedback_request.appointment.service_type.localized_name(translation.get_language()),
        "customer": customer,
        "max_length": FEEDBACK_COMMENT_MAX_LENGTH,
    }
    if request.method == "POST" and request.POST.get("action") == OPT_OUT:
        if customer.feedback_requests:
            feedback_requests_opt_out(customer=customer)
        return _page(request, "opted_out.html", context)
    if feedback_request.feedback_id is not None:
        # Already answered (a second tab, a reload of the form, the link opened again): nothing changes.
        return _thanks(
            request, context, feedback_request, already=True, status=409 if request.method == "POST" else 200
        )
    form = FeedbackForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            feedback_receive(
                customer=customer,
                appointment=feedback_request.appointment,
                channel=FeedbackChannel.LINK,
                rating=form.cleaned_data["rating"],
                comment=form.cleaned_data["comment"],
                actor=None,
                request=feedback_request,
            )
        except FeedbackError as error:
            if error.code != "already":
                form.add_error(None, error.message)
            else:
                feedback_request.refresh_from_db()
                return _thanks(request, context, feedback_request, already=True, status=409)
        else:
            if form.cleaned_data["no_more_requests"] and customer.feedback_requests:
                feedback_requests_opt_out(customer=customer)
            feedback_request.refresh_from_db()
            return _thanks(request, context, feedback_request, already=False)
    status = 400 if request.method == "POST" else 200
    return _page(request, "form.html", {**context, "form": form}, status=status)

"""Feedback in the admin: the list with how much was answered in time, logging feedback from a call,
letter or the counter, and the reply form. Every change goes through desk.services.feedback."""

from datetime import timedelta

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, F, Q
from django.utils import timezone
from django.utils.html import format_html
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _

from config.admin_actions import PrefillMixin
from desk.models import Feedback, FeedbackChannel, FeedbackState
from desk.models.feedback import RATING_MAX, RATING_MIN
from desk.services.feedback import (
    FEEDBACK_CLOSE_REASON_MAX_LENGTH,
    FeedbackError,
    feedback_close,
    feedback_receive,
    feedback_reply,
)

SHARE_RECENT_DAYS = 90


def _person(user) -> str:
    return (user.get_full_name() or user.get_username()) if user is not None else "–"


def answered_in_time_share(*, now=None) -> dict:
    """Of the feedback whose outcome is known (answered, or left unanswered past its deadline), the share
    answered by its deadline: over the last SHARE_RECENT_DAYS days (by receipt) and all time. One query.

    Feedback still open and not yet due is left out: it may yet be answered in time.
    """
    now = now or timezone.now()
    recent = Q(received_at__gte=now - timedelta(days=SHARE_RECENT_DAYS))
    # Closed without reply before its deadline: no reply was owed, so it is neither in time nor late.
    # Closed after it, it had been left late first, and still counts so.
    decided = (
        Q(replied_at__isnull=False)
        | Q(state=FeedbackState.OPEN, reply_due_at__lt=now)
        | Q(state=FeedbackState.CLOSED, closed_at__gt=F("reply_due_at"))
    )
    in_time = Q(replied_at__isnull=False, replied_at__lte=F("reply_due_at"))
    counts = Feedback.objects.aggregate(
        decided_all=Count("pk", filter=decided),
        in_time_all=Count("pk", filter=in_time),
        decided_recent=Count("pk", filter=decided & recent),
        in_time_recent=Count("pk", filter=in_time & recent),
    )

    def share(in_time_count, decided_count):
        return {
            "in_time": in_time_count,
            "decided": decided_count,
            "percent": round(100 * in_time_count / decided_count) if decided_count else None,
        }

    return {
        "recent": share(counts["in_time_recent"], counts["decided_recent"]),
        "all": share(counts["in_time_all"], counts["decided_all"]),
        "recent_days": SHARE_RECENT_DAYS,
    }


class AnsweredFilter(admin.SimpleListFilter):
    title = _("answered")
    parameter_name = "answered"

    def lookups(self, request, model_admin):
        return [("no", _("unanswered")), ("yes", _("answered")), ("closed", _("closed without reply"))]

    def queryset(self, request, queryset):
        if self.value() == "no":
            return queryset.filter(state=FeedbackState.OPEN)
        if self.value() == "yes":
            return queryset.filter(state=FeedbackState.ANSWERED)
        if self.value() == "closed":
            return queryset.filter(state=FeedbackState.CLOSED)
        return queryset


class OverdueFilter(admin.SimpleListFilter):
    title = _("deadline")
    parameter_name = "deadline"

    def lookups(self, request, model_admin):
        return [
            ("overdue", _("overdue (unanswered, past the deadline)")),
            ("late", _("answered late")),
        ]

    def queryset(self, request, queryset):
        if self.value() == "overdue":
            return queryset.filter(state=FeedbackState.OPEN, reply_due_at__lt=timezone.now())
        if self.value() == "late":
            return queryset.filter(state=FeedbackState.ANSWERED, replied_at__gt=F("reply_due_at"))
        return queryset


class RatingFilter(admin.SimpleListFilter):
    title = _("rating")
    parameter_name = "rating"

    def lookups(self, request, model_admin):
        return [(str(value), f"{'★' * value} ({value})") for value in range(RATING_MIN, RATING_MAX + 1)] + [
            ("none", _("no rating"))
        ]

    def queryset(self, request, queryset):
        if self.value() == "none":
            return queryset.filter(rating__isnull=True)
        if self.value() in {str(value) for value in range(RATING_MIN, RATING_MAX + 1)}:
            return queryset.filter(rating=int(self.value()))
        return queryset


class FeedbackLogForm(forms.ModelForm):
    """The office logs feedback given by phone, letter, email or at the counter: one service call in clean(),
    so a refusal shows as a form error and nothing is saved."""

    actor = None  # set per request by the ModelAdmin

    rating = forms.TypedChoiceField(
        label=_("rating"),
        choices=[("", _("no rating given"))] + [(value, "★" * value + f" ({value})") for value in range(1, 6)],
        coerce=int,
        empty_value=None,
        required=False,
    )

    class Meta:
        model = Feedback
        fields = ["customer", "appointment", "channel", "rating", "comment"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The link is the customer's own page; the office logs what came by other ways.
        self.fields["channel"].choices = [
            choice for choice in FeedbackChannel.choices if choice[0] != FeedbackChannel.LINK
        ]
        self.fields["comment"].help_text = _("What the customer said, in their words as far as possible.")

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        try:
            with transaction.atomic():
                self.instance = feedback_receive(
                    customer=cleaned["customer"],
                    appointment=cleaned.get("appointment"),
                    channel=cleaned["channel"],
                    rating=cleaned.get("rating"),
                    comment=cleaned.get("comment") or "",
                    actor=self.actor,
                )
        except FeedbackError as error:
            raise ValidationError(error.message, code=error.code) from error
        return cleaned

    def _post_clean(self):
        # The service has validated and saved.
        pass


class FeedbackReplyForm(forms.ModelForm):
    """The reply to the customer, sent through the outbox by feedback_reply (which keeps the promise)."""

    actor = None

    reply = forms.CharField(
        label=_("reply to the customer"),
        widget=forms.Textarea(attrs={"rows": 10, "cols": 80}),
        required=False,
        help_text=_(
            "Sent by email exactly as written, naming the feedback's owner as the contact person. "
            "Sending it closes the feedback's promise."
        ),
    )

    close_reason = forms.CharField(
        label=_("Close without reply: reason"),
        widget=forms.Textarea(attrs={"rows": 2, "cols": 80}),
        required=False,
        max_length=FEEDBACK_CLOSE_REASON_MAX_LENGTH,
        help_text=_(
            "Only when no reply is owed (the customer withdrew it, it was settled in person): say why. "
            "Nothing is sent to the customer; the reason goes into the journal and the feedback's promise is voided."
        ),
    )

    class Meta:
        model = Feedback
        fields = []

    def clean(self):
        cleaned = super().clean()
        if self.errors or self.instance.state != FeedbackState.OPEN:
            return cleaned
        reply, reason = (cleaned.get("reply") or "").strip(), (cleaned.get("close_reason") or "").strip()
        if reply and reason:
            raise ValidationError(_("Either send a reply or close the feedback without reply, not both."))
        try:
            with transaction.atomic():
                if reply:
                    self.instance = feedback_reply(feedback=self.instance, text=reply, actor=self.actor)
                elif reason:
                    self.instance = feedback_close(feedback=self.instance, reason=reason, actor=self.actor)
        except FeedbackError as error:
            raise ValidationError({"close_reason" if reason else "reply": error.message}) from error
        # Saving the page with neither changes nothing.
        return cleaned

    def _post_clean(self):
        pass


@admin.register(Feedback)
class FeedbackAdmin(PrefillMixin, admin.ModelAdmin):
    list_display = [
        "received_at",
        "customer",
        "rating_display",
        "comment_excerpt",
        "owner_name",
        "reply_due_at",
        "in_time_display",
    ]
    list_filter = [AnsweredFilter, OverdueFilter, RatingFilter, "channel"]
    list_select_related = ["customer", "owner"]
    search_fields = ["customer__full_name", "customer__email", "comment"]
    date_hierarchy = "received_at"
    autocomplete_fields = ["customer", "appointment"]
    change_list_template = "admin/desk/feedback/change_list.html"
    list_per_page = 50
    answer_fields = ("replied_at", "replied_by_name", "reply_display")
    close_fields = ("closed_at", "closed_by_name", "closed_reason")
    readonly_change_fields = [
        "customer",
        "appointment",
        "channel",
        "rating_display",
        "comment_display",
        "received_at",
        "owner_name",
        "reply_due_at",
        "state",
        "replied_at",
        "replied_by_name",
        "reply_display",
        "closed_at",
        "closed_by_name",
        "closed_reason",
        "promise",
        "created_by_name",
    ]

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_change_fields if obj is not None else []

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["customer", "appointment", "channel", "rating", "comment"]
        # Only the rows that say something: a reply's, or a closing's, or (still open) the two ways to end it.
        if obj.state == FeedbackState.ANSWERED:
            return [name for name in self.readonly_change_fields if name not in self.close_fields]
        if obj.state == FeedbackState.CLOSED:
            return [name for name in self.readonly_change_fields if name not in self.answer_fields]
        unanswered = [
            name for name in self.readonly_change_fields if name not in self.answer_fields + self.close_fields
        ]
        return [*unanswered, "reply", "close_reason"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["form"] = FeedbackReplyForm if obj is not None else FeedbackLogForm
        if obj is not None:
            kwargs["fields"] = ["reply", "close_reason"] if obj.state == FeedbackState.OPEN else []
        form_class = super().get_form(request, obj, change=change, **kwargs)
        return type(form_class.__name__, (form_class,), {"actor": request.user})

    def save_model(self, request, obj, form, change):
        # The form's service call has saved it (feedback_receive or feedback_reply).
        pass

    def save_related(self, request, form, formsets, change):
        pass

    def has_delete_permission(self, request, obj=None):
        # Feedback and its reply are part of the customer's record, like the journal.
        return False

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "answered_share": answered_in_time_share()}
        return super().changelist_view(request, extra_context=extra_context)

    @admin.display(description=_("rating"), ordering="rating")
    def rating_display(self, feedback):
        if feedback.rating is None:
            return "–"
        return format_html(
            '<span aria-hidden="true">{}</span> {}/5',
            "★" * feedback.rating + "☆" * (RATING_MAX - feedback.rating),
            feedback.rating,
        )

    @admin.display(description=_("comment"))
    def comment_excerpt(self, feedback):
        return Truncator(" ".join(feedback.comment.split())).chars(80)

    @admin.display(description=_("comment"))
    def comment_display(self, feedback):
        return format_html('<div class="pre-wrap">{}</div>', feedback.comment)

    @admin.display(description=_("reply"))
    def reply_display(self, feedback):
        return format_html('<div class="pre-wrap">{}</div>', feedback.reply_text)

    @admin.display(description=_("owner"), ordering="owner__last_name")
    def owner_name(self, feedback):
        return _person(feedback.owner)

    # People by name on the change page, as the customer's mails name them (not by login).
    @admin.display(description=_("replied by"))
    def replied_by_name(self, feedback):
        return _person(feedback.replied_by)

    @admin.display(description=_("closed by"))
    def closed_by_name(self, feedback):
        return _person(feedback.closed_by)

    @admin.display(description=_("logged by"))
    def created_by_name(self, feedback):
        return _person(feedback.created_by)

    @admin.display(description=_("answered in time"), boolean=True)
    def in_time_display(self, feedback):
        if feedback.state == FeedbackState.OPEN and feedback.reply_due_at < timezone.now():
            return False
        return feedback.answered_in_time

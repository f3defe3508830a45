from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from customers.models import OFFICE_STAFF

# Long enough for a paragraph or two about a visit; a novel belongs in a letter the office logs.
FEEDBACK_COMMENT_MAX_LENGTH = 2000
RATING_MIN, RATING_MAX = 1, 5


class FeedbackChannel(models.TextChoices):
    LINK = "link", _("feedback link")
    EMAIL = "email", _("email")
    PHONE = "phone", _("phone call")
    LETTER = "letter", _("letter")
    IN_PERSON = "in_person", _("in person")


class FeedbackState(models.TextChoices):
    OPEN = "open", _("awaiting reply")
    ANSWERED = "answered", _("answered")
    # The office decided no reply is owed (a reason is required): not answered, and no longer awaited.
    CLOSED = "closed", _("closed without reply")


class Feedback(models.Model):
    """What a customer told us about our work, and the reply the office owes them (a Promise)."""

    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="feedback", verbose_name=_("customer")
    )
    appointment = models.ForeignKey(
        "appointments.Appointment",
        on_delete=models.PROTECT,
        related_name="feedback",
        null=True,
        blank=True,
        verbose_name=_("visit"),
    )
    channel = models.CharField(_("received by"), max_length=10, choices=FeedbackChannel.choices)
    # Required on the link page; a caller or a letter may give none.
    rating = models.PositiveSmallIntegerField(_("rating"), null=True, blank=True)
    comment = models.TextField(_("comment"), blank=True)
    received_at = models.DateTimeField(_("received"))
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="feedback_owned",
        limit_choices_to=OFFICE_STAFF,
        verbose_name=_("owner"),
    )
    reply_due_at = models.DateTimeField(_("reply due"))
    state = models.CharField(_("state"), max_length=10, choices=FeedbackState.choices, default=FeedbackState.OPEN)
    replied_at = models.DateTimeField(_("replied"), null=True, blank=True)
    reply_text = models.TextField(_("reply"), blank=True)
    replied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("replied by"),
    )
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    closed_reason = models.TextField(_("why closed without reply"), blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("closed by"),
    )
    # The reply owed, as a promise: it escalates like every other one when it runs late.
    promise = models.OneToOneField(
        "desk.Promise",
        on_delete=models.PROTECT,
        related_name="feedback",
        null=True,
        blank=True,
        verbose_name=_("promise"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("logged by"),
    )

    class Meta:
        verbose_name = _("feedback")
        # Its own msgid: the singular "feedback" is "Rückmeldung" in German, the list is "Rückmeldungen".
        verbose_name_plural = pgettext_lazy("plural", "feedback")
        ordering = ["-received_at", "-id"]
        indexes = [
            models.Index(fields=["state", "reply_due_at"], name="feedback_state_due_idx"),
            models.Index(fields=["received_at"], name="feedback_received_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(rating__isnull=True) | Q(rating__gte=RATING_MIN, rating__lte=RATING_MAX),
                name="feedback_rating_1_to_5",
            ),
            models.CheckConstraint(
                condition=Q(state="open", replied_at__isnull=True, closed_at__isnull=True)
                | Q(state="answered", replied_at__isnull=False, closed_at__isnull=True)
                | Q(state="closed", replied_at__isnull=True, closed_at__isnull=False),
                name="feedback_replied_iff_answered",
            ),
        ]

    def __str__(self):
        return f"{self.get_channel_display()} – {self.customer}"

    @property
    def answered_in_time(self) -> bool | None:
        """True or False once it is decided; None while the reply is still due (unanswered, not yet late),
        or when it was closed without reply before its deadline (no reply was owed in the end). Closed
        after its deadline, it was left late first: closing it does not make that in time."""
        if self.replied_at is not None:
            return self.replied_at <= self.reply_due_at
        if self.closed_at is not None and self.closed_at > self.reply_due_at:
            return False
        return None


class FeedbackRequest(models.Model):
    """The one "how did we do?" mail for a completed visit, and the secret of its link.

    The row is the dedupe: one per visit, written even when the customer has no email address, so
    the sweep never asks twice (nor notes "no address" in the journal every quarter of an hour).
    """

    appointment = models.OneToOneField(
        "appointments.Appointment",
        on_delete=models.PROTECT,
        related_name="feedback_request",
        verbose_name=_("visit"),
    )
    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.PROTECT,
        related_name="feedback_requests_sent",
        verbose_name=_("customer"),
    )
    # Random; the link carries "<id>-<secret>" and the secret is compared in constant time.
    secret = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(_("queued"), auto_now_add=True)
    feedback = models.OneToOneField(
        Feedback,
        on_delete=models.PROTECT,
        related_name="request",
        null=True,
        blank=True,
        verbose_name=_("answer"),
    )

    class Meta:
        verbose_name = _("feedback request")
        verbose_name_plural = _("feedback requests")

    def __str__(self):
        return f"D-{self.appointment_id}"

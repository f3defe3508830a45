from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from customers.models import OFFICE_STAFF


class PromiseKind(models.TextChoices):
    CALL_BACK = "call_back", _("call back")
    SEND_INFORMATION = "send_information", _("send information")
    SEND_QUOTE = "send_quote", _("send a quote")
    CHECK = "check", _("check something")
    CALL_BEFORE_VISIT = "call_before_visit", _("call before the visit")
    CONFIRM_TIME = "confirm_time", _("confirm the visit time")
    REPLY_MAIL = "reply_mail", _("answer an email")
    REPLY_FEEDBACK = "reply_feedback", _("answer feedback")
    CALL_BOUNCED = "call_bounced", _("email bounced: call the customer")


class PromiseState(models.TextChoices):
    OPEN = "open", _("open")
    DONE = "done", _("kept")
    VOIDED = "voided", _("voided")
    # Replaced by a promise with another due time; the new one points back at this one.
    MOVED = "moved", _("moved")


class VisitMoveRule(models.TextChoices):
    """What becomes of an open promise tied to a visit when that visit gets another time."""

    MOVE = "move", _("moves with the visit")
    VOID = "void", _("is voided")
    KEEP = "keep", _("stays as it is")


# A promise about the visit's time follows it or dies with the old time; one about something else
# (a quote, an answer) is still owed whenever the visit happens.
VISIT_MOVE_RULES = {
    PromiseKind.CALL_BEFORE_VISIT: VisitMoveRule.MOVE,
    PromiseKind.CONFIRM_TIME: VisitMoveRule.VOID,
}


class Promise(models.Model):
    """Something the office owes a customer by a certain time, with the one person who owes it."""

    kind = models.CharField(_("what"), max_length=20, choices=PromiseKind.choices)
    note = models.TextField(_("details"), blank=True)
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="promises", verbose_name=_("customer")
    )
    appointment = models.ForeignKey(
        "appointments.Appointment",
        on_delete=models.PROTECT,
        related_name="promises",
        null=True,
        blank=True,
        verbose_name=_("visit"),
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="promises",
        limit_choices_to=OFFICE_STAFF,
        verbose_name=_("owner"),
    )
    due_at = models.DateTimeField(_("due"))
    state = models.CharField(_("state"), max_length=10, choices=PromiseState.choices, default=PromiseState.OPEN)
    # The contact in which it was promised, and the one that kept it: the journal is the record.
    made_in = models.ForeignKey(
        "journal.JournalEntry",
        on_delete=models.PROTECT,
        related_name="promises_made",
        null=True,
        blank=True,
        verbose_name=_("promised in"),
    )
    kept_by = models.ForeignKey(
        "journal.JournalEntry",
        on_delete=models.PROTECT,
        related_name="promises_kept",
        null=True,
        blank=True,
        verbose_name=_("kept by"),
    )
    replaces = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        related_name="replaced_by",
        null=True,
        blank=True,
        verbose_name=_("replaces"),
    )
    closed_reason = models.TextField(_("why closed"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("made by"),
    )
    created_at = models.DateTimeField(_("made"), auto_now_add=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    # When the owner was told it is due soon, that it is late, and when a lead was told: each once.
    warned_due_soon_at = models.DateTimeField(_("owner told: due soon"), null=True, blank=True)
    warned_late_at = models.DateTimeField(_("owner told: late"), null=True, blank=True)
    escalated_at = models.DateTimeField(_("lead told"), null=True, blank=True)

    class Meta:
        verbose_name = _("promise")
        verbose_name_plural = _("promises")
        ordering = ["due_at", "id"]
        indexes = [
            models.Index(fields=["state", "due_at"], name="promise_state_due_idx"),
            models.Index(fields=["owner", "state", "due_at"], name="promise_owner_due_idx"),
            models.Index(fields=["customer", "state"], name="promise_customer_idx"),
            models.Index(fields=["appointment", "state"], name="promise_appointment_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(state="open", closed_at__isnull=True) | (~Q(state="open") & Q(closed_at__isnull=False)),
                name="promise_closed_iff_not_open",
            )
        ]

    def __str__(self):
        return f"{self.get_kind_display()} – {self.customer}"

    @property
    def visit_move_rule(self) -> str:
        return VISIT_MOVE_RULES.get(self.kind, VisitMoveRule.KEEP)


class PostcodeArea(models.Model):
    """Who in the office looks after new customers from an area: postcodes starting with `prefix`."""

    prefix = models.CharField(
        _("postcode starts with"),
        max_length=12,
        unique=True,
        help_text=_("The longest matching prefix wins, e.g. 10 for all of Berlin and 104 for Friedrichshain."),
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="postcode_areas",
        limit_choices_to=OFFICE_STAFF,
        verbose_name=_("office person"),
    )

    class Meta:
        verbose_name = _("postcode area")
        verbose_name_plural = _("postcode areas")
        ordering = ["prefix"]

    def __str__(self):
        return f"{self.prefix}… → {self.owner}"

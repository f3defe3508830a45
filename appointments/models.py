from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from phonenumber_field.modelfields import PhoneNumberField

from customers.models import Country


class ServiceType(models.Model):
    name = models.CharField(_("name (English)"), max_length=100, unique=True)
    name_de = models.CharField(_("name (German)"), max_length=100, blank=True)
    name_nl = models.CharField(_("name (Dutch)"), max_length=100, blank=True)
    duration = models.DurationField(_("expected duration"), default=timedelta(hours=1))
    arrival_window = models.DurationField(
        _("arrival window"),
        default=timedelta(hours=4),
        help_text=_(
            "Customers are promised an arrival window of this length, e.g. 13:00–17:00, rather than an exact time."
        ),
    )
    buffer_after = models.DurationField(
        _("buffer after"), default=timedelta(minutes=30), help_text=_("Travel and tidy-up time after the visit.")
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("service type")
        verbose_name_plural = _("service types")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=Q(duration__gt=timedelta(0)), name="service_type_duration_positive"),
            models.CheckConstraint(
                condition=Q(arrival_window__gt=timedelta(0)), name="service_type_arrival_window_positive"
            ),
            models.CheckConstraint(
                condition=Q(buffer_after__gte=timedelta(0)), name="service_type_buffer_not_negative"
            ),
        ]

    def __str__(self):
        return self.localized_name()

    def localized_name(self, language: str | None = None) -> str:
        language = (language or translation.get_language() or "en")[:2]
        return {"de": self.name_de, "nl": self.name_nl}.get(language) or self.name


class Technician(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="technician",
        limit_choices_to={"is_staff": True},
        verbose_name=_("user"),
    )
    display_name = models.CharField(_("display name"), max_length=100)
    mobile_phone = PhoneNumberField(_("mobile phone"))
    service_types = models.ManyToManyField(
        ServiceType, related_name="technicians", blank=True, verbose_name=_("service types")
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("technician")
        verbose_name_plural = _("technicians")
        ordering = ["display_name"]

    def __str__(self):
        return self.display_name

    @property
    def first_name(self) -> str:
        # The name customers know from their mails is the display name.
        return self.display_name.split()[0] if self.display_name.strip() else self.user.first_name


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


class WorkingPeriod(models.Model):
    """One stretch of a technician's weekly hours; a day may have several (morning, afternoon)."""

    technician = models.ForeignKey(
        Technician, on_delete=models.CASCADE, related_name="working_periods", verbose_name=_("technician")
    )
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    starts = models.TimeField(_("from"))
    ends = models.TimeField(_("until"))

    class Meta:
        verbose_name = _("working hours")
        verbose_name_plural = _("working hours")
        ordering = ["technician", "weekday", "starts"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends__gt=models.F("starts")),
                name="working_period_ends_after_start",
                violation_error_message=_("The period must end after it starts."),
            ),
        ]

    def __str__(self):
        return f"{self.get_weekday_display()} {self.starts:%H:%M}–{self.ends:%H:%M}"


class TimeOff(models.Model):
    """Holidays, sick days, training: whole days or a few hours."""

    technician = models.ForeignKey(
        Technician, on_delete=models.CASCADE, related_name="time_off", verbose_name=_("technician")
    )
    starts_at = models.DateTimeField(_("from"))
    ends_at = models.DateTimeField(_("until"))
    reason = models.CharField(_("reason"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("time off")
        verbose_name_plural = _("time off")
        ordering = ["technician", "starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")),
                name="time_off_ends_after_start",
                violation_error_message=_("Time off must end after it starts."),
            ),
        ]

    def __str__(self):
        return f"{self.technician}: {self.starts_at:%Y-%m-%d %H:%M} – {self.ends_at:%Y-%m-%d %H:%M}"


class Closure(models.Model):
    """Days the whole firm does not work (company holidays, a training day). Public holidays come from the
    firm's region (see appointments/closed_days.py); customers are offered neither."""

    first_day = models.DateField(_("first day"))
    last_day = models.DateField(_("last day"), help_text=_("The same as the first day for a single day."))
    reason = models.CharField(
        _("reason"),
        max_length=200,
        help_text=_("Shown to the office when a visit falls on it, e.g. Company holidays."),
    )

    class Meta:
        verbose_name = _("firm closure")
        verbose_name_plural = _("firm closures")
        ordering = ["-first_day"]
        constraints = [
            models.CheckConstraint(
                condition=Q(last_day__gte=models.F("first_day")),
                name="closure_last_day_not_before_first",
                violation_error_message=_("The last day of a closure cannot be before its first day."),
            ),
        ]

    def __str__(self):
        if self.first_day == self.last_day:
            return f"{self.reason} ({self.first_day:%Y-%m-%d})"
        return f"{self.reason} ({self.first_day:%Y-%m-%d} – {self.last_day:%Y-%m-%d})"


class AppointmentStatus(models.TextChoices):
    REQUESTED = "requested", _("requested")
    SCHEDULED = "scheduled", _("scheduled")
    EN_ROUTE = "en_route", _("en route")
    ON_SITE = "on_site", _("on site")
    COMPLETED = "completed", _("completed")
    MISSED = "missed", _("missed")
    CANCELLED = "cancelled", _("cancelled")
    # The firm gave up the visit's window and asked the customer to choose a new one. Not active: the
    # technician is free for others then, and nothing (reminder, card, My day) treats it as happening.
    NEW_TIME = "new_time", _("waiting for a new time")


# Appointments in these states hold the technician's time.
ACTIVE_STATUSES = (
    AppointmentStatus.REQUESTED,
    AppointmentStatus.SCHEDULED,
    AppointmentStatus.EN_ROUTE,
    AppointmentStatus.ON_SITE,
)


def local_midnight(day: date) -> datetime:
    """The start of `day` in the firm's time zone. Step days on the date: a DST day has 23 or 25 hours."""
    return timezone.make_aware(datetime.combine(day, time.min))


class AppointmentQuerySet(models.QuerySet):
    def starting_on(self, first_day: date, last_day: date | None = None):
        """Visits whose window starts on `first_day` (through `last_day`), local days."""
        return self.filter(
            window_start__gte=local_midnight(first_day),
            window_start__lt=local_midnight((last_day or first_day) + timedelta(days=1)),
        )

    def active(self):
        return self.filter(status__in=ACTIVE_STATUSES)

    def the_technician_cannot_do(self, technician: "Technician"):
        """Their upcoming active visits that clash with what the office entered since they were booked:
        time off over them, a service they no longer do, or the technician no longer active."""
        upcoming = self.active().filter(technician=technician, window_end__gt=timezone.now())
        if not technician.is_active:
            return upcoming
        time_off = TimeOff.objects.filter(
            technician=technician,
            starts_at__lt=models.OuterRef("occupied_until"),
            ends_at__gt=models.OuterRef("planned_start"),
        )
        return upcoming.filter(models.Exists(time_off) | ~Q(service_type__in=technician.service_types.all()))

    def overlapping(self, *, technician_id: int, starts_at, ends_at):
        """Active appointments of the technician whose planned time (with its buffer) meets [starts_at, ends_at)."""
        return self.active().filter(
            technician_id=technician_id, planned_start__lt=ends_at, occupied_until__gt=starts_at
        )


class Appointment(models.Model):
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="appointments", verbose_name=_("customer")
    )
    technician = models.ForeignKey(
        Technician,
        on_delete=models.PROTECT,
        related_name="appointments",
        null=True,
        blank=True,
        verbose_name=_("technician"),
    )
    service_type = models.ForeignKey(
        ServiceType, on_delete=models.PROTECT, related_name="appointments", verbose_name=_("service type")
    )
    site_street = models.CharField(_("street and number"), max_length=200)
    site_postcode = models.CharField(_("postcode"), max_length=12)
    site_city = models.CharField(_("city"), max_length=100)
    site_country = models.CharField(_("country"), max_length=2, choices=Country.choices, default=Country.GERMANY)
    window_start = models.DateTimeField(_("arrival window from"), db_index=True)
    window_end = models.DateTimeField(_("arrival window until"))
    expected_duration = models.DurationField(_("expected duration"))
    # The plan inside the promise (see appointments.planning): the technician is busy over
    # [planned_start, occupied_until) = the expected duration plus the service's buffer. The
    # overlap rule works on this range; re-ordering a day changes it, not the window.
    planned_start = models.DateTimeField(_("planned start"))
    occupied_until = models.DateTimeField(_("busy until (with buffer)"), editable=False)
    status = models.CharField(
        _("status"), max_length=10, choices=AppointmentStatus.choices, default=AppointmentStatus.SCHEDULED
    )
    version = models.PositiveIntegerField(_("version"), default=1)
    notes = models.TextField(_("notes"), blank=True)
    cancel_reason = models.TextField(_("reason for cancellation"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    requested_at = models.DateTimeField(_("requested at"), null=True, blank=True)
    scheduled_at = models.DateTimeField(_("scheduled at"), null=True, blank=True)
    trip_started_at = models.DateTimeField(_("trip started at"), null=True, blank=True)
    arrived_at = models.DateTimeField(_("arrived at"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    missed_at = models.DateTimeField(_("missed at"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    # While the status is NEW_TIME, window_start/window_end are the window the firm gave up.
    new_time_requested_at = models.DateTimeField(_("new time requested at"), null=True, blank=True)
    new_time_reason = models.TextField(_("reason for asking for a new time"), blank=True)

    objects = AppointmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("appointment")
        verbose_name_plural = _("appointments")
        ordering = ["window_start", "id"]
        indexes = [
            models.Index(fields=["technician", "window_start"], name="appointment_tech_start_idx"),
            models.Index(fields=["technician", "planned_start"], name="appointment_tech_planned_idx"),
            models.Index(fields=["customer", "window_start"], name="appointment_customer_start_idx"),
            models.Index(fields=["status", "window_start"], name="appointment_status_start_idx"),
            # The visits still to come, in the list's order. Past visits are completed, cancelled or missed,
            # so on PostgreSQL the office's "scheduled" list walked the window_start index past all of
            # them (75,000 rows, 11-25 ms at 100,000 visits, growing with the history): the planner
            # takes statuses as spread evenly over time. This index holds only the rows such a list wants.
            models.Index(
                fields=["window_start", "id"],
                name="appointment_open_start_idx",
                condition=Q(status__in=["requested", "scheduled", "en_route", "on_site", "new_time"]),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(window_end__gt=models.F("window_start")), name="appointment_window_ends_after_start"
            ),
            models.CheckConstraint(
                condition=Q(planned_start__gte=models.F("window_start"), planned_start__lt=models.F("window_end")),
                name="appointment_planned_inside_window",
            ),
            models.CheckConstraint(
                condition=Q(occupied_until__gt=models.F("planned_start")), name="appointment_busy_after_start"
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["scheduled", "en_route", "on_site", "completed", "missed"])
                | Q(technician__isnull=False),
                name="appointment_technician_when_scheduled",
            ),
        ]
        # The technician overlap rule lives in migrations 0002/0007: an exclusion constraint over the
        # planned range on PostgreSQL; SQLite relies on IMMEDIATE transactions.

    def __str__(self):
        return f"{self.customer} · {self.service_type} · {timezone.localtime(self.window_start):%Y-%m-%d %H:%M}"

    @property
    def planned_end(self) -> datetime:
        """When the job itself should be done; the buffer (travel, tidying up) follows."""
        return self.planned_start + self.expected_duration

    @property
    def site_address(self) -> str:
        return f"{self.site_street}, {self.site_postcode} {self.site_city}"

    def awaits_rebooking(self) -> bool:
        """Missed, and no new visit was booked for it yet (by moving it, or a new booking for its service)."""
        attempt = self.current_attempt()
        return attempt is not None and attempt.rebooked_at is None

    def current_attempt(self) -> "VisitAttempt | None":
        """The attempt at the door that made this visit missed; None once it is rebooked (or was never missed)."""
        if self.status != AppointmentStatus.MISSED:
            return None
        return (
            self.attempts.select_related("technician")
            .filter(appointment_version=self.version)
            .order_by("-at", "-id")
            .first()
        )


class BookingInvitationQuerySet(models.QuerySet):
    def open(self):
        """Not booked and not expired (or closed): their links still work."""
        return self.filter(appointment__isnull=True, expires_at__gt=timezone.now())


class BookingInvitation(models.Model):
    """The office invites a customer to pick a window themselves ("maintenance due").

    The link carries an HMAC over the invitation's id and its random nonce, so a
    copy of the database alone cannot forge or recover one; the nonce also lets
    the office revoke a link by replacing it.
    """

    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="booking_invitations", verbose_name=_("customer")
    )
    service_type = models.ForeignKey(ServiceType, on_delete=models.PROTECT, verbose_name=_("service type"))
    technician = models.ForeignKey(
        Technician,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        verbose_name=_("technician"),
        help_text=_("Leave empty to offer the windows of every technician who does this service."),
    )
    nonce = models.CharField(max_length=64, editable=False)
    message = models.TextField(_("personal note"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    expires_at = models.DateTimeField(_("valid until"))
    appointment = models.OneToOneField(
        Appointment,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="invitation",
        verbose_name=_("booked appointment"),
    )

    objects = BookingInvitationQuerySet.as_manager()

    class Meta:
        verbose_name = _("booking invitation")
        verbose_name_plural = _("booking invitations")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.customer} · {self.service_type}"

    def is_open(self) -> bool:
        """Not booked and not expired (or closed): the link still works. See BookingInvitationQuerySet.open()."""
        return self.appointment_id is None and self.expires_at > timezone.now()


class VisitAttemptQuerySet(models.QuerySet):
    def follow_up_open(self):
        """Flagged for the office, and neither rebooked nor dealt with yet."""
        return self.filter(
            follow_up_flagged_at__isnull=False, rebooked_at__isnull=True, follow_up_closed_at__isnull=True
        )


class VisitAttempt(models.Model):
    """A technician at the door and nobody opened: the firm's record that it was there.

    The time is the server's, taken when the technician pressed "not home"; the
    window is copied from the visit, which may be moved to a new time later.
    """

    appointment = models.ForeignKey(
        Appointment, on_delete=models.PROTECT, related_name="attempts", verbose_name=_("appointment")
    )
    technician = models.ForeignKey(
        Technician, on_delete=models.PROTECT, related_name="attempts", verbose_name=_("technician")
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("recorded by"),
    )
    at = models.DateTimeField(_("at the door at"), db_index=True)
    window_start = models.DateTimeField(_("arrival window from"))
    window_end = models.DateTimeField(_("arrival window until"))
    appointment_version = models.PositiveIntegerField(_("appointment version"))
    waited_minutes = models.PositiveSmallIntegerField(_("waited (minutes)"))
    note = models.TextField(_("note"), blank=True)
    card_left = models.BooleanField(_("card left at the door"), default=False)
    latitude = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    location_accuracy_m = models.PositiveIntegerField(_("location accuracy (m)"), null=True, blank=True)
    rebooked_at = models.DateTimeField(_("rebooked at"), null=True, blank=True)
    follow_up_flagged_at = models.DateTimeField(_("flagged for follow-up at"), null=True, blank=True)
    follow_up_closed_at = models.DateTimeField(_("follow-up closed at"), null=True, blank=True)
    follow_up_closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("follow-up closed by"),
    )
    follow_up_note = models.TextField(_("follow-up note"), blank=True)

    objects = VisitAttemptQuerySet.as_manager()

    class Meta:
        verbose_name = _("missed visit")
        verbose_name_plural = _("missed visits")
        ordering = ["-at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(latitude__isnull=True, longitude__isnull=True)
                | Q(latitude__isnull=False, longitude__isnull=False),
                name="visit_attempt_location_complete",
            ),
        ]

    def __str__(self):
        return f"{self.appointment.customer} · {timezone.localtime(self.at):%Y-%m-%d %H:%M}"

    @property
    def reference(self) -> str:
        return f"D-{self.appointment_id}"


class MissedVisitFollowUp(VisitAttempt):
    """The office's follow-up queue in the admin: missed visits nobody rebooked."""

    class Meta:
        proxy = True
        verbose_name = _("follow-up of a missed visit")
        verbose_name_plural = _("follow-ups of missed visits")

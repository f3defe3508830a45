from datetime import datetime, timedelta

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from appointments.models import Appointment, ServiceType, Technician
from appointments.services import (
    DETAIL_FIELDS,
    RESCHEDULABLE,
    AppointmentError,
    appointment_change_duration,
    appointment_replan,
    appointment_reschedule,
    appointment_schedule,
    appointment_update_details,
)
from appointments.services.booking import NOTE_MAX_LENGTH
from appointments.services.rules import LONGEST_VISIT


class DateTimePickerField(forms.SplitDateTimeField):
    """Native date and time pickers: no JavaScript needed, localised by the browser."""

    def __init__(self, **kwargs):
        kwargs.setdefault(
            "widget",
            forms.SplitDateTimeWidget(
                date_attrs={"type": "date"}, time_attrs={"type": "time"}, date_format="%Y-%m-%d", time_format="%H:%M"
            ),
        )
        super().__init__(input_date_formats=["%Y-%m-%d"], input_time_formats=["%H:%M", "%H:%M:%S"], **kwargs)


def optional_text_field(*, label, max_length: int, help_text="", rows: int = 2) -> forms.CharField:
    """A free-text box the user may leave empty; the browser stops typing at the length the service keeps."""
    return forms.CharField(
        label=label,
        required=False,
        max_length=max_length,
        widget=forms.Textarea(attrs={"rows": rows, "maxlength": max_length}),
        help_text=help_text,
    )


def duration_minutes_field(**kwargs) -> forms.IntegerField:
    return forms.IntegerField(
        label=_("expected duration (minutes)"),
        min_value=5,
        max_value=int(LONGEST_VISIT.total_seconds() // 60),
        widget=forms.NumberInput(attrs={"step": 5}),
        **kwargs,
    )


def planned_time_field() -> forms.TimeField:
    return forms.TimeField(
        label=_("planned start"),
        required=False,
        input_formats=["%H:%M", "%H:%M:%S"],
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        help_text=_(
            "Inside the arrival window; leave empty for the earliest free time. Changing only this re-orders "
            "the technician's day: the customer is not told."
        ),
    )


def planned_start_on(window_start: datetime, planned_time) -> datetime | None:
    """The planned time of day on the window's day, in the firm's time zone."""
    if planned_time is None:
        return None
    return timezone.make_aware(datetime.combine(timezone.localdate(window_start), planned_time))


class ServiceModelForm(forms.ModelForm):
    """An admin form whose clean() performs the change through a service.

    Running the service inside clean() lets a domain error (an overlap, say)
    show up as a form error; the admin wraps the request in one transaction, and
    these forms have no inlines that could fail after the service has run.
    """

    actor = None  # set per request by the ModelAdmin

    def apply(self, cleaned_data) -> Appointment:
        raise NotImplementedError

    def clean(self):
        cleaned_data = super().clean()
        if self.errors:
            return cleaned_data
        try:
            # One form may run several services (duration, move, details): a refusal by a later one must
            # undo the earlier ones, as the page reports the whole change as not made. The admin's own
            # transaction commits a page with form errors.
            with transaction.atomic():
                self.instance = self.apply(cleaned_data)
        except AppointmentError as exc:
            raise ValidationError(exc.message, code=exc.code) from exc
        return cleaned_data

    def _post_clean(self):
        # The service has validated and saved; the model's own checks would only repeat it.
        pass


class AppointmentAddForm(ServiceModelForm):
    window_start = DateTimePickerField(label=_("arrival window from"))
    window_end = DateTimePickerField(
        label=_("arrival window until"),
        required=False,
        help_text=_("Leave empty to use the service type's window length."),
    )
    duration_minutes = duration_minutes_field(
        required=False, help_text=_("Leave empty to use the service type's expected duration.")
    )
    planned_time = planned_time_field()
    requested = forms.BooleanField(
        label=_("only a request for now"),
        required=False,
        help_text=_(
            "The customer's wish, not yet agreed: no confirmation mail until you confirm it "
            "(appointment list, “Confirm selected requested appointments”)."
        ),
    )

    class Meta:
        model = Appointment
        fields = [
            "customer",
            "service_type",
            "technician",
            "window_start",
            "window_end",
            "notes",
            "site_street",
            "site_postcode",
            "site_city",
            "site_country",
        ]
        help_texts = {"site_street": _("Leave the site address empty to use the customer's address.")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["technician"].required = True
        for name in ("site_street", "site_postcode", "site_city", "site_country"):
            self.fields[name].required = False

    def apply(self, cleaned_data) -> Appointment:
        site = {
            "street": cleaned_data.get("site_street"),
            "postcode": cleaned_data.get("site_postcode"),
            "city": cleaned_data.get("site_city"),
            "country": cleaned_data.get("site_country"),
        }
        window_end = (
            cleaned_data.get("window_end")
            or cleaned_data["window_start"] + cleaned_data["service_type"].arrival_window
        )
        if window_end <= timezone.now():
            # The service also records visits of the past (imports, the demo); the office books ahead.
            raise AppointmentError(str(_("This window has already passed; choose a time still ahead.")))
        given = [site[key] for key in ("street", "postcode", "city")]
        if any(given) and not all(given):
            raise AppointmentError(str(_("Give street, postcode and city of the site, or none of them.")))
        if not any(given):
            # The country list always sends a value (its default): without an address it means nothing,
            # and a Dutch customer's visit must not be sent to "…, Venlo, Germany".
            site = {}
        return appointment_schedule(
            customer=cleaned_data["customer"],
            service_type=cleaned_data["service_type"],
            technician=cleaned_data["technician"],
            window_start=cleaned_data["window_start"],
            window_end=cleaned_data.get("window_end"),
            notes=cleaned_data.get("notes", ""),
            site=site,
            actor=self.actor,
            requested=cleaned_data.get("requested", False),
            planned_start=planned_start_on(cleaned_data["window_start"], cleaned_data.get("planned_time")),
            expected_duration=(
                timedelta(minutes=cleaned_data["duration_minutes"]) if cleaned_data.get("duration_minutes") else None
            ),
        )


class AppointmentChangeForm(ServiceModelForm):
    window_start = DateTimePickerField(label=_("arrival window from"))
    window_end = DateTimePickerField(label=_("arrival window until"))
    reschedule_reason = forms.CharField(
        label=_("reason for moving"),
        required=False,
        help_text=_("Recorded in the contact journal; not sent to the customer."),
    )
    duration_minutes = duration_minutes_field(
        required=False, help_text=_("The technician's day is re-planned around it; the customer is not told.")
    )
    planned_time = planned_time_field()
    # The version this page showed: a visit moved since (online, by a colleague) is not moved back.
    seen_version = forms.IntegerField(label=_("version shown"), widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["seen_version"].initial = self.instance.version
        self.fields["duration_minutes"].initial = round(self.instance.expected_duration.total_seconds() / 60)
        self.fields["planned_time"].initial = timezone.localtime(self.instance.planned_start).time()

    class Meta:
        model = Appointment
        fields = [
            "technician",
            "window_start",
            "window_end",
            "notes",
            "site_street",
            "site_postcode",
            "site_city",
            "site_country",
        ]

    def apply(self, cleaned_data) -> Appointment:
        appointment = self.instance
        seen_version = cleaned_data["seen_version"]
        duration = cleaned_data.get("duration_minutes")
        if duration is not None and timedelta(minutes=duration) != appointment.expected_duration:
            appointment = appointment_change_duration(
                appointment=appointment,
                expected_duration=timedelta(minutes=duration),
                actor=self.actor,
                expected_version=seen_version,
            )
        moved = appointment.status in RESCHEDULABLE and (
            cleaned_data.get("window_start", appointment.window_start) != appointment.window_start
            or cleaned_data.get("window_end", appointment.window_end) != appointment.window_end
            or (cleaned_data.get("technician") or appointment.technician) != appointment.technician
        )
        details = {name: cleaned_data[name] for name in DETAIL_FIELDS if name in cleaned_data}
        # The planned time the page showed is no choice of the clerk's: only a changed one is kept.
        planned_time = cleaned_data.get("planned_time") if "planned_time" in self.changed_data else None
        if moved:
            appointment = appointment_reschedule(
                appointment=appointment,
                window_start=cleaned_data["window_start"],
                window_end=cleaned_data["window_end"],
                technician=cleaned_data.get("technician"),
                reason=cleaned_data.get("reschedule_reason", ""),
                actor=self.actor,
                expected_version=seen_version,
                planned_start=planned_start_on(cleaned_data["window_start"], planned_time),
            )
            seen_version = appointment.version
        elif planned_time is not None:
            appointment = appointment_replan(
                appointment=appointment,
                planned_start=planned_start_on(appointment.window_start, planned_time),
                actor=self.actor,
                expected_version=seen_version,
            )
        return appointment_update_details(
            appointment=appointment, changes=details, actor=self.actor, expected_version=seen_version
        )


class CancelForm(forms.Form):
    reason = forms.CharField(
        label=_("reason"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Recorded in the contact journal; not sent to the customer."),
    )


class NewTimeRequestForm(forms.Form):
    """Why the firm cannot keep the time. It goes into the customer's mail exactly as typed, so the
    office is told which language the customer reads."""

    reason = forms.CharField(
        max_length=NOTE_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 3, "maxlength": NOTE_MAX_LENGTH})
    )

    def __init__(self, *args, language: str, **kwargs):
        super().__init__(*args, **kwargs)
        language_name = dict(settings.LANGUAGES).get(language, language)
        field = self.fields["reason"]
        field.label = _("reason for the customer, in %(language)s") % {"language": language_name}
        field.help_text = _(
            "Goes into the email exactly as you type it, e.g. “Our technician is ill that day.” "
            "The customer reads %(language)s. Also recorded in the contact journal."
        ) % {"language": language_name}


class FollowUpCloseForm(forms.Form):
    note = forms.CharField(
        label=_("what was agreed"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "E.g. “Called, customer will book online tonight” or “No new visit wanted”. Recorded in the journal."
        ),
    )


class RescheduleForm(forms.Form):
    window_start = DateTimePickerField(label=_("new arrival window from"))
    window_end = DateTimePickerField(
        label=_("new arrival window until"), required=False, help_text=_("Leave empty to keep the window's length.")
    )
    technician = forms.ModelChoiceField(
        label=_("technician"),
        queryset=Technician.objects.filter(is_active=True),
        required=False,
        help_text=_("Leave empty to keep the technician."),
    )
    reason = forms.CharField(
        label=_("reason"), required=False, help_text=_("Recorded in the contact journal; not sent to the customer.")
    )


class InvitationForm(forms.Form):
    service_type = forms.ModelChoiceField(label=_("service type"), queryset=ServiceType.objects.filter(is_active=True))
    technician = forms.ModelChoiceField(
        label=_("technician"),
        queryset=Technician.objects.filter(is_active=True),
        required=False,
        help_text=_("Leave empty to offer the windows of every technician who does this service."),
    )
    note = forms.CharField(
        label=_("personal note"),
        required=False,
        max_length=NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Shown in the email, e.g. “Your boiler's annual maintenance is due.”"),
    )

    def __init__(self, *args, languages=(), **kwargs):
        """`languages`: the labels of the languages the selected customers read their mails in."""
        super().__init__(*args, **kwargs)
        self.languages = list(languages)
        # The note goes into the mail as typed: the clerk must know which language that is.
        if len(self.languages) == 1:
            self.fields["note"].help_text = _(
                "Write the note in %(language)s: the customer gets the email and the booking page in "
                "%(language)s. E.g. “Your boiler's annual maintenance is due.”"
            ) % {"language": self.languages[0]}
        elif self.languages:
            self.fields["note"].help_text = _(
                "The selected customers read their emails in different languages (%(languages)s): "
                "leave the note empty, or invite each language separately."
            ) % {"languages": ", ".join(str(language) for language in self.languages)}

    def clean_note(self):
        note = self.cleaned_data["note"]
        if note and len(self.languages) > 1:
            raise ValidationError(
                _(
                    "The selected customers read their emails in different languages (%(languages)s), so one "
                    "note cannot suit them all. Leave it empty, or select the customers of one language."
                )
                % {"languages": ", ".join(str(language) for language in self.languages)}
            )
        return note

"""The office's promises: a list to work from, a form to make one (from a customer's page), and a page
per promise that changes it only through the desk's services (keep, move, hand over, void, no answer yet)."""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from appointments.formatting import format_short_day, format_time, format_window_short
from appointments.forms import DateTimePickerField
from appointments.models import Appointment
from config.admin_actions import CheckedSelectionMixin
from customers.models import OFFICE_STAFF, Customer
from customers.selectors import is_office_staff, phone_search_q
from desk.models import PostcodeArea, Promise, PromiseKind, PromiseState
from desk.owners import owner_for
from desk.page_html import Links, keep_label
from desk.selectors import Bounds
from desk.services.promises import (
    WAITING_FOR_MAX_LENGTH,
    PromiseError,
    promise_make,
    promise_move,
    promise_reassign,
    promise_report_no_answer,
    promise_void,
)
from desk.working_time import add_working_time, office_day_length

NOTE_MAX_LENGTH = 2000


def person(user) -> str:
    return " ".join((user.get_full_name() or user.get_username()).split())


def visit_label(appointment: Appointment) -> str:
    """'D-12 · Mi 4.3.2026, 08:00–12:00 · Heizungswartung (geplant)': what the clerk recognises a visit by."""
    return (
        f"D-{appointment.pk} · {format_window_short(appointment.window_start, appointment.window_end)} · "
        f"{appointment.service_type.localized_name()} ({appointment.get_status_display()})"
    )


class VisitChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, appointment):
        return visit_label(appointment)


class OwnerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, user):
        return person(user)


def office_people():
    return get_user_model().objects.filter(OFFICE_STAFF).order_by("first_name", "last_name", "username")


def text_field(label, *, required=True, max_length=NOTE_MAX_LENGTH, rows=3, help_text=""):
    return forms.CharField(
        label=label,
        required=required,
        max_length=max_length,
        widget=forms.Textarea(attrs={"rows": rows, "maxlength": max_length}),
        help_text=help_text,
    )


def _aware(moment):
    return timezone.make_aware(moment) if moment is not None and timezone.is_naive(moment) else moment


# Making a promise ---------------------------------------------------------------------------------------


class PromiseAddForm(forms.ModelForm):
    """Made through promise_make inside clean(), so a refusal shows as a form error (as ServiceModelForm)."""

    actor = None
    customer_pk = None

    due_at = DateTimePickerField(label=capfirst(_("due")))
    appointment = VisitChoiceField(
        label=capfirst(_("visit")),
        queryset=Appointment.objects.none(),
        required=False,
        help_text=_("Only if the promise is about one of the customer's visits: it then follows the visit's moves."),
    )
    owner = OwnerChoiceField(label=capfirst(_("owner")), queryset=office_people())
    note = text_field(
        capfirst(_("details")), required=False, help_text=_("What exactly was promised, in a few words.")
    )

    class Meta:
        model = Promise
        fields = ["customer", "kind", "appointment", "owner", "due_at", "note"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = office_people()
        customer = self._customer()
        if customer is not None:
            self.fields["appointment"].queryset = (
                Appointment.objects.filter(customer=customer).select_related("service_type").order_by("-window_start")
            )
        else:
            self.fields["appointment"].help_text = _(
                "To tie the promise to a visit, start from the customer's page (“Make a promise”)."
            )

    def _customer(self):
        raw = self.data.get("customer") if self.is_bound else self.initial.get("customer")
        if isinstance(raw, Customer):
            return raw
        try:
            return Customer.objects.filter(pk=int(raw)).first() if raw else None
        except (TypeError, ValueError):
            return None

    def clean_due_at(self):
        # A promise made due in the past would be late (and escalated) the moment it is made.
        due_at = self.cleaned_data["due_at"]
        if due_at is not None and due_at <= timezone.now():
            raise ValidationError(_("The due time must be in the future."), code="due_at")
        return due_at

    def clean(self):
        cleaned_data = super().clean()
        if self.errors:
            return cleaned_data
        try:
            with transaction.atomic():
                self.instance = promise_make(
                    customer=cleaned_data["customer"],
                    kind=cleaned_data["kind"],
                    owner=cleaned_data["owner"],
                    due_at=cleaned_data["due_at"],
                    appointment=cleaned_data.get("appointment"),
                    note=cleaned_data.get("note", ""),
                    actor=self.actor,
                )
        except PromiseError as exc:
            raise ValidationError(exc.message, code=exc.code) from exc
        return cleaned_data

    def _post_clean(self):
        # promise_make validated and saved; the model's own checks would only repeat it.
        pass


# The buttons on a promise's page -----------------------------------------------------------------------


class MoveForm(forms.Form):
    due_at = DateTimePickerField(label=_("new due time"))
    reason = text_field(_("why"), required=False, rows=2, max_length=500)

    def apply(self, promise, actor):
        due_at = self.cleaned_data["due_at"]
        if due_at <= timezone.now():
            raise PromiseError(str(_("The new due time must be in the future.")), code="due_at")
        new = promise_move(promise=promise, due_at=due_at, actor=actor, reason=self.cleaned_data["reason"])
        return _("Promise moved to %(due)s.") % {"due": f"{format_short_day(new.due_at)}, {format_time(new.due_at)}"}


class HandOverForm(forms.Form):
    owner = OwnerChoiceField(label=_("new owner"), queryset=Promise.objects.none())

    def __init__(self, *args, promise=None, **kwargs):
        super().__init__(*args, **kwargs)
        people = office_people()
        self.fields["owner"].queryset = people.exclude(pk=promise.owner_id) if promise else people

    def apply(self, promise, actor):
        promise_reassign(promise=promise, owner=self.cleaned_data["owner"], actor=actor)
        return _("Promise handed over to %(owner)s.") % {"owner": person(self.cleaned_data["owner"])}


class VoidForm(forms.Form):
    reason = text_field(_("why it no longer applies"), rows=2, max_length=500)

    def apply(self, promise, actor):
        promise_void(promise=promise, reason=self.cleaned_data["reason"], actor=actor, code="office")
        return _("Promise voided.")


class NoAnswerForm(forms.Form):
    waiting_for = text_field(
        _("we are waiting for"),
        rows=2,
        max_length=WAITING_FOR_MAX_LENGTH,
        help_text=_("Written to the customer as typed, in their language: “the manufacturer's offer”."),
    )
    next_contact_at = DateTimePickerField(
        label=_("they hear from us next by"), help_text=_("The promise moves to this time.")
    )

    def apply(self, promise, actor):
        new = promise_report_no_answer(
            promise=promise,
            waiting_for=self.cleaned_data["waiting_for"],
            next_contact_at=self.cleaned_data["next_contact_at"],
            actor=actor,
        )
        return _("The customer gets a short note; the promise is now due %(due)s.") % {
            "due": f"{format_short_day(new.due_at)}, {format_time(new.due_at)}"
        }


# Keeping a promise is logging the contact that keeps it: the journal's form does that (render_change_form).
ACTIONS = {
    "move": (MoveForm, _("Move"), _("Move the promise to another time")),
    "hand-over": (HandOverForm, _("Hand over"), _("Hand the promise to a colleague")),
    "void": (VoidForm, _("Void"), _("Void the promise")),
    "no-answer": (
        NoAnswerForm,
        _("No answer yet"),
        _("No answer yet: tell the customer when they will hear from us"),
    ),
}


# The list's filters -------------------------------------------------------------------------------------


class MineFilter(admin.SimpleListFilter):
    title = _("owner")
    parameter_name = "owner"

    def lookups(self, request, model_admin):
        return [("mine", _("mine"))]

    def queryset(self, request, queryset):
        if self.value() == "mine":
            return queryset.filter(owner=request.user)
        return queryset


class DueFilter(admin.SimpleListFilter):
    """The sections of My desk and the counts in the navigation, by the same definition (desk.selectors.Bounds):
    "due today" is still ahead today, what is already late is overdue, never both."""

    title = _("due")
    parameter_name = "due"

    def lookups(self, request, model_admin):
        return [("overdue", _("overdue")), ("today", _("due today")), ("week", _("later this week"))]

    def queryset(self, request, queryset):
        bounds = Bounds.at(timezone.now())
        condition = {"overdue": bounds.overdue, "today": bounds.today, "week": bounds.this_week}.get(self.value())
        if condition is None:
            return queryset
        return queryset.filter(condition(), state=PromiseState.OPEN)


# The admin ----------------------------------------------------------------------------------------------


@admin.register(Promise)
class PromiseAdmin(CheckedSelectionMixin, admin.ModelAdmin):
    list_display = ["kind_and_note", "customer_link", "visit", "owner_name", "due", "state"]
    list_filter = [MineFilter, "state", "kind", DueFilter]
    list_select_related = ["customer", "owner", "appointment__service_type"]
    search_fields = ["customer__full_name", "customer__email", "note"]
    search_help_text = _("Customer's name, email or phone; or words of the details.")
    # Thousands of customers: searched, not listed.
    autocomplete_fields = ["customer"]
    date_hierarchy = None
    list_per_page = 50
    change_form_template = "admin/desk/promise/change_form.html"
    action_form_template = "admin/desk/promise/action_form.html"
    readonly_fields = [
        "kind",
        "customer_link",
        "visit",
        "owner_name",
        "due",
        "state",
        "note",
        "made_in",
        "kept_by",
        "history",
        "closed_reason",
        "created_by",
        "created_at",
        "closed_at",
        "warnings",
    ]
    change_fieldsets = [
        (None, {"fields": ["kind", "customer_link", "visit", "owner_name", "due", "state", "note"]}),
        (_("Record"), {"fields": ["made_in", "kept_by", "history", "closed_reason", "created_by", "created_at"]}),
        (_("Closed and warned"), {"fields": ["closed_at", "warnings"]}),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("customer", "owner", "appointment__service_type")

    def get_search_results(self, request, queryset, search_term):
        matches, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        phone_q = phone_search_q(search_term, field="customer__phone")
        if phone_q is None:
            return matches, may_have_duplicates
        return queryset.filter(Q(pk__in=matches.values("pk")) | phone_q), may_have_duplicates

    # Add and change pages ----------------------------------------------------------------------

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return [(None, {"fields": ["customer", "kind", "appointment", "owner", "due_at", "note"]})]
        return self.change_fieldsets

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else []

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = PromiseAddForm
            form_class = super().get_form(request, obj, change=change, **kwargs)
            return type(form_class.__name__, (form_class,), {"actor": request.user})
        kwargs["fields"] = []
        return super().get_form(request, obj, change=change, **kwargs)

    def get_changeform_initial_data(self, request):
        initial = {"kind": PromiseKind.CALL_BACK, "due_at": add_working_time(timezone.now(), office_day_length())}
        customer = None
        try:
            customer = Customer.objects.filter(pk=int(request.GET.get("customer", ""))).first()
        except ValueError:
            pass
        if customer is not None:
            initial["customer"] = customer
            initial["owner"] = owner_for(customer=customer)
            try:
                visit = customer.appointments.filter(pk=int(request.GET.get("appointment", ""))).first()
            except ValueError:
                visit = None
            if visit is not None:
                initial["appointment"] = visit
        elif is_office_staff(request.user):
            initial["owner"] = request.user
        return initial

    def save_model(self, request, obj, form, change):
        # promise_make saved it in the form's clean(); a change page saves nothing (buttons do).
        pass

    def save_related(self, request, form, formsets, change):
        pass

    def has_delete_permission(self, request, obj=None):
        # A promise is voided with a reason, never deleted: the journal refers to it.
        return False

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "show_save": False,
            "show_save_and_continue": False,
            "show_save_and_add_another": False,
            "show_delete": False,
            "promise_actions": [(name, button, title) for name, (_form, button, title) in ACTIONS.items()],
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and obj.pk:
            # Kept by logging the contact in the journal's form, as from My desk; back here afterwards.
            back = reverse("admin:desk_promise_change", args=[obj.pk])
            context.update(keep_url=Links(back=back).keep(obj), keep_label=keep_label(obj))
        return super().render_change_form(request, context, add=add, change=change, form_url=form_url, obj=obj)

    # The buttons ----------------------------------------------------------------------------------

    def get_urls(self):
        return [
            path(
                "<int:promise_id>/do/<slug:action>/",
                self.admin_site.admin_view(self.action_view),
                name="desk_promise_action",
            ),
            *super().get_urls(),
        ]

    def action_view(self, request, promise_id: int, action: str):
        if action not in ACTIONS:
            raise Http404
        promise = get_object_or_404(self.get_queryset(request), pk=promise_id)
        if not self.has_change_permission(request, promise):
            raise Http404
        change_url = reverse("admin:desk_promise_change", args=[promise.pk])
        form_class, _button, title = ACTIONS[action]
        extra = {"promise": promise} if form_class is HandOverForm else {}
        if promise.state != PromiseState.OPEN:
            self.message_user(
                request,
                _("This promise is already closed (%(state)s).") % {"state": promise.get_state_display()},
                messages.WARNING,
            )
            return HttpResponseRedirect(change_url)
        form = form_class(request.POST if request.method == "POST" else None, **extra)
        if request.method == "POST" and form.is_valid():
            try:
                with transaction.atomic():
                    done = form.apply(promise, request.user)
            except PromiseError as exc:
                form.add_error(None, exc.message)
            else:
                self.message_user(request, done, messages.SUCCESS)
                return HttpResponseRedirect(self._after_action_url(promise, action))
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "opts": self.model._meta,
            "original": promise,
            "promise": promise,
            "form": form,
            "back_url": change_url,
            "media": self.media + form.media,
        }
        status = 400 if request.method == "POST" else 200
        return TemplateResponse(request, self.action_form_template, context, status=status)

    def _after_action_url(self, promise, action: str) -> str:
        if action in ("move", "no-answer"):
            newest = Promise.objects.filter(replaces=promise).order_by("-pk").first()
            if newest is not None:
                return reverse("admin:desk_promise_change", args=[newest.pk])
        return reverse("admin:desk_promise_change", args=[promise.pk])

    # Columns and read-only fields -----------------------------------------------------------------

    @admin.display(description=_("what"), ordering="kind")
    def kind_and_note(self, promise):
        if promise.note:
            return format_html('{}<span class="secondary">{}</span>', promise.get_kind_display(), promise.note[:80])
        return promise.get_kind_display()

    @admin.display(description=_("customer"), ordering="customer__full_name")
    def customer_link(self, promise):
        url = reverse("admin:customers_customer_change", args=[promise.customer_id])
        phone = promise.customer.phone.as_international if promise.customer.phone else ""
        return format_html('<a href="{}">{}</a> <span class="secondary">{}</span>', url, promise.customer, phone)

    @admin.display(description=_("visit"), ordering="appointment__window_start")
    def visit(self, promise):
        if promise.appointment is None:
            return "–"
        url = reverse("admin:appointments_appointment_change", args=[promise.appointment_id])
        return format_html('<a href="{}">{}</a>', url, visit_label(promise.appointment))

    @admin.display(description=_("owner"), ordering="owner__first_name")
    def owner_name(self, promise):
        return person(promise.owner)

    @admin.display(description=_("due"), ordering="due_at")
    def due(self, promise):
        text = f"{format_short_day(promise.due_at)}, {format_time(promise.due_at)}"
        if promise.state == PromiseState.OPEN and promise.due_at < timezone.now():
            return format_html('<strong class="promise-late">{} · {}</strong>', text, _("late"))
        return text

    @admin.display(description=_("earlier and later versions"))
    def history(self, promise):
        links = []
        if promise.replaces_id:
            url = reverse("admin:desk_promise_change", args=[promise.replaces_id])
            links.append(format_html('<a href="{}">{}</a>', url, _("replaces an earlier promise")))
        for later in promise.replaced_by.all():
            url = reverse("admin:desk_promise_change", args=[later.pk])
            links.append(format_html('<a href="{}">{}</a>', url, _("replaced by a later promise")))
        return format_html("{}", ", ".join(str(link) for link in links)) if links else "–"

    @admin.display(description=_("warnings sent"))
    def warnings(self, promise):
        sent = [
            (label, moment)
            for label, moment in (
                (_("due soon"), promise.warned_due_soon_at),
                (_("late"), promise.warned_late_at),
                (_("lead told"), promise.escalated_at),
            )
            if moment
        ]
        return ", ".join(f"{label}: {format_short_day(moment)} {format_time(moment)}" for label, moment in sent) or "–"


@admin.register(PostcodeArea)
class PostcodeAreaAdmin(admin.ModelAdmin):
    list_display = ["prefix", "owner_name"]
    search_fields = ["prefix"]
    ordering = ["prefix"]

    @admin.display(description=_("office person"), ordering="owner__first_name")
    def owner_name(self, area):
        return person(area.owner)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "owner":
            return OwnerChoiceField(label=_("office person"), queryset=office_people())
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

import json

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q, TextField
from django.db.models.functions import Cast
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.text import smart_split, unescape_string_literal
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from config.admin_actions import PrefillMixin
from customers.models import Customer
from journal.contacts import contact_extensions
from journal.forms import QUICK_CONTACT_FORM_ID, ContactEntryForm, QuickContactForm
from journal.models import JournalEntry
from journal.rendering import action_label, entry_text
from journal.services import ContactError, contact_record


def journal_timeline_html(
    customer, *, length: int, appointment=None, contact_form: QuickContactForm | None = None
) -> str:
    """The customer's latest `length` journal entries as a table, for the admin pages that show a customer.

    `appointment`: only the entries about that visit. `contact_form`: the quick "log a contact" form above
    the table (its fields belong to an empty form outside the page's own, see change_form.html).
    """
    entries = JournalEntry.objects.filter(customer=customer)
    if appointment is not None:
        entries = entries.filter(appointment=appointment)
    entries = list(entries.select_related("actor").order_by("-occurred_at", "-id")[: length + 1])
    return render_to_string(
        "admin/customers/journal_timeline.html",
        {
            "entries": [(entry, entry_text(entry)) for entry in entries[:length]],
            "has_more": len(entries) > length,
            "customer": customer,
            "appointment": appointment,
            "contact_form": contact_form,
            "contact_form_id": QUICK_CONTACT_FORM_ID,
        },
    )


def _json_text_forms(word: str) -> list[str]:
    """How `word` may appear in the data's JSON text. PostgreSQL keeps letters as they are and compares them
    case-blind; SQLite writes non-ASCII letters \\u-escaped (ü as \\u00fc), where case-blind means ASCII
    only, so the escaped word is looked for as typed, in lower and upper case and capitalised."""
    forms = {word}
    if not word.isascii():
        forms.update(json.dumps(form)[1:-1] for form in (word, word.lower(), word.upper(), word.capitalize()))
    return sorted(forms)


class ActionFilter(admin.SimpleListFilter):
    title = gettext_lazy("action")
    parameter_name = "action"

    def lookups(self, request, model_admin):
        actions = JournalEntry.objects.order_by().values_list("action", flat=True).distinct()
        return sorted(((action, action_label(action)) for action in actions), key=lambda choice: choice[1])

    def queryset(self, request, queryset):
        return queryset.filter(action=self.value()) if self.value() else queryset


def _back_url(request, customer_id: int) -> str:
    """Where the clerk came from (?next=, e.g. My desk), if it is this site's; else the customer's page."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("admin:customers_customer_change", args=[customer_id])


def _contact_done(request, form, customer) -> None:
    done = [_("The contact is in %(customer)s's journal.") % {"customer": customer}, *form.done_messages()]
    messages.success(request, " ".join(done))


@admin.register(JournalEntry)
class JournalEntryAdmin(PrefillMixin, admin.ModelAdmin):
    """Read-only timeline; staff may add contacts (a call, a letter) but never change or delete one."""

    # What happened, in the reader's language; the action's code is for filtering, not for reading.
    list_display = ["occurred_at", "customer", "channel", "direction", "text", "actor"]
    list_filter = ["channel", "direction", ActionFilter]
    list_select_related = ["customer", "actor"]
    search_fields = ["customer__full_name", "summary", "action"]
    search_help_text = gettext_lazy("Searches the customer's name and what the entries say (names, subjects, notes).")
    autocomplete_fields = ["customer"]
    form = ContactEntryForm
    list_per_page = 100

    @admin.display(description=gettext_lazy("what"))
    def text(self, entry):
        return entry_text(entry)

    def get_search_results(self, request, queryset, search_term):
        """Every word in the customer's name, the stored summary, the action or the entry's data: most entries
        store action + data only, and what a reader sees of them (a subject, a sender, a note) is in there.
        One condition per word on the same query: the list costs no more queries."""
        queryset = queryset.alias(data_text=Cast("data", output_field=TextField()))
        for word in smart_split(search_term):
            if word[:1] in {'"', "'"} and word[-1:] == word[:1] and len(word) > 1:
                word = unescape_string_literal(word)
            data_matches = Q()
            for form in _json_text_forms(word):
                data_matches |= Q(data_text__icontains=form)
            queryset = queryset.filter(
                Q(customer__full_name__icontains=word)
                | Q(summary__icontains=word)
                | Q(action__icontains=word)
                | data_matches
            )
        return queryset, False

    def get_urls(self):
        return [
            path(
                "contact/<int:customer_id>/",
                self.admin_site.admin_view(self.contact_view),
                name="journal_journalentry_contact",
            ),
            *super().get_urls(),
        ]

    def get_fields(self, request, obj=None):
        # The fields other apps add (journal.contacts) exist only on the form instance: name them here.
        names = [name for extension in contact_extensions() for name in extension.fields(None)]
        return [*ContactEntryForm.base_fields, *names]

    def get_form(self, request, obj=None, change=False, **kwargs):
        # Only the model's fields go to the form factory; it refuses the extensions' names.
        kwargs["fields"] = ContactEntryForm.Meta.fields
        return super().get_form(request, obj, change=change, **kwargs)

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        initial.setdefault("contact", "phone_in")
        return initial

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def response_post_save_add(self, request, obj):
        # Started from a customer's page (?customer=…): back to that customer, where the entry now shows.
        if "customer" in request.GET or "next" in request.GET:
            return HttpResponseRedirect(_back_url(request, obj.customer_id))
        return super().response_post_save_add(request, obj)

    def message_user(self, request, message, *args, **kwargs):
        # The add page's own "added successfully" says less than what the contact did (kept, promised).
        done = getattr(request, "_contact_done", None)
        if done:
            return super().message_user(request, done, *args, **kwargs)
        return super().message_user(request, message, *args, **kwargs)

    def save_model(self, request, obj, form, change):
        saved = contact_record(
            customer=form.cleaned_data["customer"],
            appointment=form.cleaned_data.get("appointment"),
            contact=form.cleaned_data["contact"],
            note=form.cleaned_data["note"],
            occurred_at=form.cleaned_data["occurred_at"],
            extension_data=form.extension_data(),
            actor=request.user,
        )
        obj.pk = saved.pk
        request._contact_done = " ".join(
            [_("The contact is in %(customer)s's journal.") % {"customer": saved.customer}, *form.done_messages()]
        )

    def contact_view(self, request, customer_id: int):
        """The customer page's quick form posts here: stored, then back to the customer with a message.

        Refused input shows this form again, filled in, with the reason; nothing is stored.
        """
        if not self.has_add_permission(request):
            raise PermissionDenied
        customer = get_object_or_404(Customer, pk=customer_id)
        if request.method == "POST":
            data = request.POST.copy()
            data["customer"] = str(customer.pk)
            form = QuickContactForm(data, initial={"customer": customer.pk})
            if form.is_valid():
                try:
                    contact_record(
                        customer=customer,
                        appointment=form.cleaned_data.get("appointment"),
                        contact=form.cleaned_data["contact"],
                        note=form.cleaned_data["note"],
                        occurred_at=form.cleaned_data["occurred_at"],
                        extension_data=form.extension_data(),
                        actor=request.user,
                    )
                except ContactError as refused:
                    form.add_error(refused.field if refused.field in form.fields else None, refused.message)
                else:
                    _contact_done(request, form, customer)
                    return HttpResponseRedirect(_back_url(request, customer.pk))
        else:
            # The link may preset any field, the other apps' too: My desk's "log the call that keeps it"
            # names the promise, its visit and the kind of contact.
            form = QuickContactForm(initial={**request.GET.dict(), "customer": customer.pk})
        context = {
            **self.admin_site.each_context(request),
            "title": _("Log a contact with %(customer)s") % {"customer": customer},
            "customer": customer,
            "form": form,
            "contact_form_id": QUICK_CONTACT_FORM_ID,
            "opts": self.opts,
            "next": request.POST.get("next") or request.GET.get("next") or "",
            "back_url": _back_url(request, customer.pk),
        }
        return TemplateResponse(request, "admin/journal/contact_form.html", context)

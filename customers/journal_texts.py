"""What this app's journal entries say, built from their data in the reader's language (journal.rendering)."""

from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from phonenumber_field.phonenumber import PhoneNumber

from journal.rendering import register_action


def created_text(data: Mapping[str, Any] | None) -> str:
    """What customer.created says: where the record came from (the website, a row of an imported file)."""
    source = (data or {}).get("source")
    if source == "website":
        return _("Customer record created from a request on the website.")
    if source == "import":
        return _("Customer record created from row %(row)s of the imported file %(file)s.") % {
            "row": data["row"],
            "file": data["file"],
        }
    return _("Customer record created.")


def _created(entry) -> str:
    return created_text(entry.data)


def _changed(entry) -> str:
    from customers.models import Customer

    labels = ", ".join(str(Customer._meta.get_field(name).verbose_name) for name in entry.data["changes"])
    return _("Customer record changed: %(fields)s.") % {"fields": labels}


def _phone_reread(entry) -> str:
    from customers.models import Customer

    countries = dict(Customer._meta.get_field("country").flatchoices)
    return _("Phone number read in the customer's country (%(country)s): %(old)s is now %(new)s.") % {
        "country": countries[entry.data["country"]],
        "old": PhoneNumber.from_string(entry.data["old"]).as_international,
        "new": PhoneNumber.from_string(entry.data["new"]).as_international,
    }


def register_journal_actions() -> None:
    register_action("customer.created", label=gettext_lazy("customer created"), render=_created)
    register_action("customer.updated", label=gettext_lazy("customer details changed"), render=_changed)
    register_action("customer.phone_reread", label=gettext_lazy("phone number corrected"), render=_phone_reread)
    # Written once by a migration with the person's name in its text: the stored summary is what it says.
    register_action("customer.responsible_not_office", label=gettext_lazy("responsible person to be chosen"))

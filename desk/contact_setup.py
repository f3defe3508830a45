"""The journal's "log a contact" form keeps and makes promises (desk/forms_contact.py).

Called once from DeskConfig.ready(); registering again replaces, never doubles.
"""

from desk import forms_contact
from journal.contacts import ContactExtension, register_contact_extension


def setup() -> None:
    register_contact_extension(
        "desk.promises",
        ContactExtension(
            fields=forms_contact.fields,
            clean=forms_contact.clean,
            apply=forms_contact.apply,
            done=forms_contact.done,
        ),
    )

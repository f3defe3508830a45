from django import forms
from django.utils.translation import gettext_lazy as _

from privacy.models import ErasureReason


def _folded(text: str) -> str:
    return " ".join(text.split()).casefold()


class ErasureForm(forms.Form):
    """The office confirms by typing the customer's name, as GitHub asks for a repository's: a slip of the
    mouse cannot erase anybody. The name is compared, never stored."""

    confirm_name = forms.CharField(
        label=_("Type the customer's name to confirm"),
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    reason = forms.ChoiceField(label=_("Why"), choices=ErasureReason.choices, widget=forms.RadioSelect)

    def __init__(self, *args, customer, **kwargs):
        super().__init__(*args, **kwargs)
        self.customer = customer

    def clean_confirm_name(self):
        typed = self.cleaned_data["confirm_name"]
        if _folded(typed) != _folded(self.customer.full_name):
            raise forms.ValidationError(_("That is not the customer's name as stored. Nothing was erased."))
        return typed

"""What this app's journal entries say, built from their data in the reader's language (journal.rendering)."""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from journal.rendering import register_action


def _records(counts: dict) -> int:
    return sum(value for value in counts.values() if isinstance(value, int))


def _erased(entry) -> str:
    from privacy.models import ErasureReason

    return _("Personal data erased (%(reason)s); %(count)s records anonymised.") % {
        "reason": ErasureReason(entry.data["reason"]).label,
        "count": _records(entry.data["counts"]),
    }


def _exported(entry) -> str:
    count = _records(entry.data["counts"])
    return ngettext(
        "All data stored about the customer exported (%(count)s record).",
        "All data stored about the customer exported (%(count)s records).",
        count,
    ) % {"count": count}


def register_journal_actions() -> None:
    register_action("customer.erased", label=gettext_lazy("personal data erased"), render=_erased)
    register_action("customer.data_exported", label=gettext_lazy("personal data exported"), render=_exported)

"""Days the firm does not work: the public holidays of its region and its own closures. Read-only.

Customers are never offered these days (see availability.free_windows); the office may still book on
them and is warned, as outside working hours. Names are in the active language where the holidays
package has it, else in English, else in the country's own language.
"""

from datetime import date, timedelta
from functools import lru_cache

import holidays
from django.utils import translation

from appointments import plan_inputs
from customers.models import Firm
from customers.phones import default_region

# The holidays package spells English as American English.
PACKAGE_LANGUAGES = {"de": "de", "nl": "nl", "en": "en_US"}


@lru_cache(maxsize=1)
def _localized_countries() -> dict[str, list[str]]:
    # Like the supported countries: built from the whole registry (some 4 ms a call), never changes.
    return holidays.list_localized_countries()


def _holiday_language(country: str) -> str | None:
    supported = _localized_countries().get(country, [])
    wanted = PACKAGE_LANGUAGES.get((translation.get_language() or "en")[:2])
    for language in (wanted, "en_US"):
        if language in supported:
            return language
    return None  # the country's own language


@lru_cache(maxsize=1)
def _supported_countries() -> frozenset[str]:
    # The package builds this list from its whole registry (tens of milliseconds); it never changes.
    return frozenset(holidays.list_supported_countries())


@lru_cache(maxsize=32)
def _public_holidays(country: str, subdivision: str, years: tuple[int, ...], language: str | None):
    # Built once per region, years and language: building one computes every holiday of those years.
    # expand=False: a lookup outside `years` must not add a year to an object other threads share.
    return holidays.country_holidays(country, subdiv=subdivision or None, years=years, expand=False, language=language)


def _firm_region() -> tuple[str, str]:
    return firm_region(plan_inputs.firm())


def firm_region(firm: Firm | None) -> tuple[str, str]:
    """The (country, subdivision) whose public holidays `firm` keeps (Firm.objects.first(), maybe None):
    for a caller that has loaded the firm anyway, so closed_days need not read it again."""
    return (firm.country, firm.holiday_subdivision) if firm is not None else (default_region(), "")


def closed_days(first_day: date, last_day: date, *, region: tuple[str, str] | None = None) -> dict[date, str]:
    """Each closed day in [first_day, last_day] with why: the holiday's name and/or the closure's reason.

    Two queries (the firm's region, the closures) whatever the length of the range; one if the caller
    passes the firm's `region` (firm_region()).
    """
    if last_day < first_day:
        return {}
    reasons: dict[date, list[str]] = {}
    country, subdivision = region or _firm_region()
    if country in _supported_countries():
        years = tuple(range(first_day.year, last_day.year + 1))
        for day, name in _public_holidays(country, subdivision, years, _holiday_language(country)).items():
            if first_day <= day <= last_day:
                reasons.setdefault(day, []).append(name)
    for closure_first, closure_last, reason in plan_inputs.closures(first_day, last_day):
        day = max(closure_first, first_day)
        while day <= min(closure_last, last_day):
            reasons.setdefault(day, []).append(reason)
            day += timedelta(days=1)
    return {day: "; ".join(names) for day, names in sorted(reasons.items())}


def closed_reason(day: date) -> str | None:
    """Why the firm is closed on `day`, or None on a working day."""
    return closed_days(day, day).get(day)

"""The "we were here" card a technician leaves at the door, as PDF.

One template (`templates/cards/`) and one print stylesheet (`static/cards/card.css`)
make three kinds of card: filled after a missed visit, pre-filled for a day's
visits (printed before the van leaves, the time written by hand), and blank.
Each card is in its customer's language; the day pack mixes languages.

WeasyPrint's own URL fetcher follows http, ftp, file and data URLs. The cards
are rendered with `StaticFilesFetcher` instead, which serves our static files
and the QR codes made for the card being rendered, and refuses everything
else, so nothing on a card can make the server fetch a URL or read a file.

Speed: the fetcher, the parsed stylesheet and the font configuration are
built once and shared; `bench/cards.py` compares a card with a minimal page.
"""

import io
import mimetypes
import os
import threading
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date
from pathlib import PurePosixPath
from urllib.parse import unquote, urlsplit

import emoji
import segno
from django.contrib.staticfiles import finders
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse

from appointments.formatting import format_day, format_time, format_window
from appointments.links import card_url
from appointments.models import Appointment, AppointmentStatus, Technician, VisitAttempt
from customers.models import Firm
from customers.selectors import firm_contact, responsible_contact

# Relative URLs in the card templates resolve against this base. The .invalid
# top-level domain never resolves (RFC 2606); only our fetcher knows it.
STATIC_BASE_URL = "https://static.doorstep.invalid/static/"
STYLESHEET_URL = STATIC_BASE_URL + "cards/card.css"
# Images made for one rendering (the QR codes), served from memory.
GENERATED_BASE_URL = "https://static.doorstep.invalid/generated/"
SERVED_SUFFIXES = {".css", ".svg", ".png", ".jpg", ".jpeg", ".ttf", ".otf", ".woff", ".woff2"}
# Visits a technician may still be heading to; the day pack has a card for each.
PACK_STATUSES = (AppointmentStatus.SCHEDULED, AppointmentStatus.EN_ROUTE, AppointmentStatus.ON_SITE)
MAX_BLANK_CARDS = 40


class ResourceRefused(ValueError):
    """A card asked for something that is not one of our static files."""


def static_file_for(url: str) -> str:
    """The file behind one of our static URLs; `ResourceRefused` for anything else."""
    if not url.startswith(STATIC_BASE_URL):
        raise ResourceRefused(f"Cards load only Doorstep's static files, not {url[:200]!r}.")
    relative = unquote(urlsplit(url).path.removeprefix(urlsplit(STATIC_BASE_URL).path))
    parts = relative.split("/")
    if (
        not relative
        or "\\" in relative
        or "\x00" in relative
        or any(part in ("", ".", "..") for part in parts)
        or PurePosixPath(relative).suffix.lower() not in SERVED_SUFFIXES
    ):
        raise ResourceRefused(f"Not a static file: {relative[:200]!r}.")
    found = finders.find(relative)
    if not found:
        raise ResourceRefused(f"No static file {relative[:200]!r}.")
    return found


_generated_images: ContextVar[dict[str, bytes] | None] = ContextVar("card_images", default=None)


class StaticFilesFetcher(URLFetcher):
    """WeasyPrint's fetcher, narrowed to the project's static files (GHSA-35jj-wx47-4w8r, GHSA-983w-rhvv-gwmv).

    Besides static files it serves the images `render_pdf` was given for the
    current rendering; it never opens a connection or reads any other file.
    """

    def fetch(self, url, headers=None):
        if url.startswith(GENERATED_BASE_URL):
            body = (_generated_images.get() or {}).get(url.removeprefix(GENERATED_BASE_URL))
            if body is None:
                raise ResourceRefused(f"No image {url[:200]!r} in this rendering.")
            return URLFetcherResponse(url, body=body, headers={"Content-Type": "image/png"})
        path = static_file_for(url)
        content_type = mimetypes.guess_type(path)[0] or "application/octet-stream"
        with open(path, "rb") as file:
            body = file.read()
        return URLFetcherResponse(url, body=body, headers={"Content-Type": content_type})


# One instance for every rendering: it holds no state of its own, and building
# a fetcher sets up urllib's handlers (an SSL context: tens of milliseconds).
FETCHER = StaticFilesFetcher()


_stylesheet: tuple[int, CSS] | None = None


def card_stylesheet() -> CSS:
    """The print stylesheet, fetched through FETCHER and parsed once per version of the file.

    Parsing it costs about as much as laying out half a card; a parsed CSS is
    read-only during rendering, so every rendering can share it.
    """
    global _stylesheet
    version = os.stat(static_file_for(STYLESHEET_URL)).st_mtime_ns
    if _stylesheet is None or _stylesheet[0] != version:
        _stylesheet = (version, CSS(url=STYLESHEET_URL, url_fetcher=FETCHER))
    return _stylesheet[1]


_thread = threading.local()


def font_config() -> FontConfiguration:
    """Fontconfig's font list and Pango's font map, built once per thread (Pango's is not thread-safe).

    Building them costs several milliseconds per document, and the map caches
    the fonts it has opened. The cards use only installed fonts, no @font-face.
    """
    if not hasattr(_thread, "font_config"):
        _thread.font_config = FontConfiguration()
    return _thread.font_config


def render_pdf(html: str, *, images: dict[str, bytes] | None = None) -> bytes:
    """`html` as a card PDF; `images` maps names to PNGs the HTML links as GENERATED_BASE_URL + name."""
    token = _generated_images.set(images or {})
    try:
        document = HTML(string=html, base_url=STATIC_BASE_URL, url_fetcher=FETCHER)
        return document.write_pdf(stylesheets=[card_stylesheet()], font_config=font_config())
    finally:
        _generated_images.reset(token)


@dataclass
class Card:
    """What one card shows, already formatted in its language; empty strings become lines to write on."""

    language: str
    customer_name: str = ""
    service: str = ""
    window: str = ""
    day: str = ""
    time: str = ""
    technician: str = ""
    reference: str = ""
    url: str = ""
    qr_png: bytes = b""
    contact: dict = field(default_factory=dict)

    @property
    def attempted(self) -> bool:
        return bool(self.time)

    @property
    def link_host(self) -> str:
        """The printed link is `url` without its scheme: shorter to type, and browsers add it."""
        return printed_address(self.url).partition("/")[0]

    @property
    def link_path(self) -> str:
        return printed_address(self.url).partition("/")[2]

    @property
    def qr_name(self) -> str:
        return f"qr-{self.reference}.png"

    @property
    def qr_src(self) -> str:
        return GENERATED_BASE_URL + self.qr_name


def printed_address(url: str) -> str:
    """A web address as people type it from paper: no scheme, no trailing slash."""
    return url.split("://", 1)[-1].rstrip("/")


def with_emoji_font(text: str) -> SafeString:
    """`text` escaped, each emoji in a span that card.css sets in Noto Color Emoji.

    Only the emoji: with the emoji font anywhere in the body's font-family list,
    Pango takes digits and spaces from it too (it has glyphs for keycaps), and
    "10:02" prints as "1 0 : 0 2".
    """
    return mark_safe(
        emoji.replace_emoji(escape(text), replace=lambda chars, _data: f'<span class="emoji">{chars}</span>')
    )


def _unbroken(contact: dict) -> dict:
    """A phone number split over two lines is misread; keep each on one line."""
    return {**contact, "phone": contact.get("phone", "").replace(" ", "\N{NO-BREAK SPACE}")}


def _qr_png(url: str) -> bytes:
    """One pixel per module; the stylesheet scales it up without smoothing (image-rendering: pixelated).

    A tiny PNG costs WeasyPrint far less than the same code as an SVG path.
    """
    png = io.BytesIO()
    segno.make(url, error="m").save(png, kind="png", scale=1, border=4)
    return png.getvalue()


def _visit_card(appointment: Appointment, *, firm: Firm | None, attempt: VisitAttempt | None = None) -> Card:
    """A card for one visit: filled from the attempt, or pre-filled with the time left blank."""
    customer = appointment.customer
    language = customer.preferred_language
    url = card_url(appointment)
    start, end = (
        (attempt.window_start, attempt.window_end) if attempt else (appointment.window_start, appointment.window_end)
    )
    with translation.override(language):
        card = Card(
            language=language,
            customer_name=with_emoji_font(customer.full_name),
            service=with_emoji_font(appointment.service_type.localized_name(language)),
            window=format_window(start, end),
            technician=with_emoji_font((attempt.technician if attempt else appointment.technician).display_name),
            reference=f"D-{appointment.pk}",
            url=url,
            qr_png=_qr_png(url),
            contact=_unbroken(responsible_contact(customer, firm=firm)),
        )
        card.contact["name"] = with_emoji_font(card.contact["name"])
        if attempt is not None:
            card.day, card.time = format_day(attempt.at), format_time(attempt.at)
        else:
            card.day = format_day(start)
    return card


def _render_cards(
    cards: list[Card], *, language: str, title: str, firm: Firm | None, empty: dict | None = None
) -> bytes:
    html = render_to_string(
        "cards/document.html",
        {
            "cards": cards,
            "language": language,
            "title": title,
            "firm": firm,
            "website": printed_address(firm.website) if firm and firm.website else "",
            "empty": empty,
        },
    )
    return render_pdf(html, images={card.qr_name: card.qr_png for card in cards if card.qr_png})


def render_visit_card(*, appointment: Appointment, attempt: VisitAttempt | None = None) -> bytes:
    """The card for one visit: filled from `attempt` (left at the door: when the firm was there, how to
    choose a new time), or pre-filled with the time left blank for the technician to write in."""
    firm = Firm.objects.first()
    card = _visit_card(appointment, firm=firm, attempt=attempt)
    return _render_cards([card], language=card.language, title=card.reference, firm=firm)


def render_missed_card(*, attempt: VisitAttempt) -> bytes:
    return render_visit_card(appointment=attempt.appointment, attempt=attempt)


def day_visits(*, technician: Technician, day: date):
    """The technician's visits whose window starts on `day` (local time), in the order of the round."""
    return (
        Appointment.objects.filter(technician=technician, status__in=PACK_STATUSES)
        .starting_on(day)
        .select_related("customer__responsible__office_profile", "service_type", "technician")
        .order_by("planned_start", "id")
    )


def render_day_pack(*, technician: Technician, day: date) -> bytes:
    """One PDF, a pre-filled card per visit of the day; a day without visits gives a page that says so."""
    firm = Firm.objects.first()
    cards = [_visit_card(appointment, firm=firm) for appointment in day_visits(technician=technician, day=day)]
    language = translation.get_language() or "en"
    empty = None if cards else {"technician": technician.display_name, "day": format_day(day)}
    return _render_cards(cards, language=language, title=day.isoformat(), firm=firm, empty=empty)


def render_blank_cards(*, count: int, language: str) -> bytes:
    """`count` cards to fill in by hand, the firm's contact printed on them."""
    if not 1 <= count <= MAX_BLANK_CARDS:
        raise ValueError(f"count must be between 1 and {MAX_BLANK_CARDS}, not {count}")
    firm = Firm.objects.first()
    contact = _unbroken(firm_contact(firm))
    cards = [Card(language=language, contact=contact) for _ in range(count)]
    return _render_cards(cards, language=language, title="blank", firm=firm)

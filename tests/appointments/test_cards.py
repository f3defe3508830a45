import io
import shutil
import subprocess
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from datetime import timezone as dt_timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest
import zxingcpp
from django.db import connections
from django.utils import timezone, translation
from PIL import Image
from pypdf import PdfReader

from appointments.cards import (
    GENERATED_BASE_URL,
    STATIC_BASE_URL,
    ResourceRefused,
    StaticFilesFetcher,
    render_blank_cards,
    render_day_pack,
    render_missed_card,
)
from appointments.links import card_url
from appointments.models import AppointmentStatus
from tests.appointments.card_scene import card_scene, missed_attempt, one_line, page_count, pdf_text
from tests.conftest import ROOT, need_service
from tests.factories import (
    AppointmentFactory,
    CustomerFactory,
    FirmFactory,
    OfficeUserFactory,
    ServiceTypeFactory,
    TechnicianFactory,
    VisitAttemptFactory,
    local_dt,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(db):
    return card_scene()


# The missed card ---------------------------------------------------------------------


def test_missed_card_is_one_a6_page(setup):
    pdf = render_missed_card(attempt=missed_attempt(setup))

    page = PdfReader(io.BytesIO(pdf)).pages[0]
    assert page_count(pdf) == 1
    # A6 is 105 × 148 mm = 297.6 × 419.5 pt.
    assert round(float(page.mediabox.width)) == 298
    assert round(float(page.mediabox.height)) == 420


def test_missed_card_shows_the_time_of_the_attempt_and_who_it_is_for(setup):
    attempt = missed_attempt(setup, minute=2)

    text = one_line(pdf_text(render_missed_card(attempt=attempt)))

    assert "Anna Schmitz" in text
    assert "10:02" in text
    assert f"D-{attempt.appointment.pk}" in text
    assert "Jan Verhaag" in text
    assert "Haustechnik Verhaag GmbH" in text


def test_missed_card_names_the_office_person_to_call(setup):
    text = one_line(pdf_text(render_missed_card(attempt=missed_attempt(setup))))

    assert "Sandra Brinkmann" in text
    assert "+49 2821 123456" in text
    assert "sandra@firm.example" in text


def test_missed_card_shows_the_time_in_the_firms_time_zone(setup):
    attempt = missed_attempt(setup, minute=2)
    # The same instant, as a server in another zone would hand it over.
    attempt.at = attempt.at.astimezone(dt_timezone(timedelta(hours=-5)))

    text = pdf_text(render_missed_card(attempt=attempt))

    assert "10:02" in text


def test_short_link_on_the_card_leads_to_the_booking_page(setup, client):
    attempt = missed_attempt(setup)
    url = card_url(attempt.appointment)

    text = pdf_text(render_missed_card(attempt=attempt))

    # Printed as people type it: without the scheme, which browsers add (and production redirects to https).
    assert url.removeprefix("http://") in text.replace("\n", "")
    response = client.get(urlsplit(url).path)
    assert response.status_code == 302


def test_qr_code_on_the_card_decodes_to_the_short_link(setup, tmp_path):
    # The page as a printer would see it (poppler), read by a QR decoder from PyPI (zxing-cpp).
    need_service(shutil.which("pdftoppm") is not None, "pdftoppm is not installed (apt: poppler-utils)")
    attempt = missed_attempt(setup)
    (tmp_path / "card.pdf").write_bytes(render_missed_card(attempt=attempt))

    subprocess.run(
        ["pdftoppm", "-r", "200", "-png", "-f", "1", "-l", "1", "-singlefile", "card.pdf", "card"],
        cwd=tmp_path,
        check=True,
    )
    with Image.open(tmp_path / "card.png") as page:
        codes = zxingcpp.read_barcodes(page)

    assert [code.text for code in codes] == [card_url(attempt.appointment)]


def test_cards_render_in_another_thread_too(setup):
    # Each thread gets its own font configuration; Pango's is not thread-safe.
    attempt = missed_attempt(setup)

    def render_in_thread():
        try:
            return render_missed_card(attempt=attempt)
        finally:
            connections.close_all()  # the thread's own connection must not outlive the test database

    with ThreadPoolExecutor(max_workers=1) as pool:
        pdf = pool.submit(render_in_thread).result()

    assert "Anna Schmitz" in pdf_text(pdf)


def test_card_dates_follow_the_customers_language(setup):
    attempt = missed_attempt(setup)
    local = timezone.localtime(attempt.at)
    customer = setup["customer"]

    customer.preferred_language = "en"
    english = one_line(pdf_text(render_missed_card(attempt=attempt)))
    customer.preferred_language = "de"
    german = one_line(pdf_text(render_missed_card(attempt=attempt)))

    with translation.override("en"):
        assert f"{local:%Y}" in english and local.strftime("%B")[:3] in english
    # German dates put the day first: "24. November 2026". Month names are Django's own translations.
    assert f"{local.day}. " in german
    assert "Heizungswartung" in german and "Boiler maintenance" in english
    assert "10:02" in german and "10:02" in english


@pytest.mark.parametrize("language", ["de", "nl", "en"])
def test_every_language_gets_a_card_with_the_same_data(setup, language):
    customer = CustomerFactory(full_name="Lotte de Vries", responsible=setup["office"], preferred_language=language)
    attempt = missed_attempt(setup, customer=customer)

    pdf = render_missed_card(attempt=attempt)

    text = one_line(pdf_text(pdf))
    assert page_count(pdf) == 1
    assert "Lotte de Vries" in text
    assert "10:02" in text
    assert f"D-{attempt.appointment.pk}" in text
    assert setup["service_type"].localized_name(language) in text


def test_no_internal_note_is_printed_on_any_card(setup):
    # A card lies in a mailbox or on a doormat: "key under the flowerpot" or "hard of hearing" is for
    # the technician's phone, never for whoever picks the card up.
    customer = CustomerFactory(
        full_name="Anna Schmitz", responsible=setup["office"], preferred_language="en", notes="Key under the pot"
    )
    attempt = missed_attempt(setup, customer=customer)
    attempt.appointment.notes = "Hard of hearing"
    attempt.appointment.save()
    attempt.note = "Rang twice"
    attempt.save()
    AppointmentFactory(
        customer=customer,
        service_type=setup["service_type"],
        technician=setup["technician"],
        window_start=local_dt(1, 8),
        notes="Hard of hearing",
    )

    texts = [
        one_line(pdf_text(render_missed_card(attempt=attempt))),
        one_line(
            pdf_text(render_day_pack(technician=setup["technician"], day=timezone.localdate() + timedelta(days=1)))
        ),
    ]

    assert all("Anna Schmitz" in text for text in texts)
    assert not any(note in text for text in texts for note in ("Key under", "Hard of hearing", "Rang twice"))


# Long names, long links, emoji --------------------------------------------------------

WEG = "Wohnungseigentümergemeinschaft Hagsche Straße 34–38, c/o Hausverwaltung Terhorst & Söhne GmbH"
EMOJI_NAME = "Familie Jansen 🏡🔥 Sophie 👩‍🔧"
FIRM_SITE = "https://termine.haustechnik-verhaag.de"


def filled(words: str, length: int) -> str:
    """Words repeated up to exactly `length` characters: the longest value a field allows."""
    return " ".join([words] * length)[:length]


def longest_email() -> str:
    # 254 characters: the most an email field holds (64 before the @, labels of at most 63).
    local = "sandra.brinkmann." + "k" * 47
    label = "hausverwaltung-terhorst-" + "x" * 38
    email = f"{local}@{label}.{label}.{'v' * 60}.de"
    assert (len(local), len(label), len(email)) == (64, 62, 254)
    return email


@pytest.fixture
def longest(db, settings):
    """Every text a card prints at the longest length its model field allows, on a long site address."""
    settings.SITE_URL = FIRM_SITE
    FirmFactory(
        name=filled("Haustechnik Verhaag Heizung Sanitär Elektro", 200),
        email=longest_email(),
        phone="+492821100000",
        street=filled("Hagsche Straße", 200),
        postcode="4753300000XX",
        city=filled("Kleve-Kellen", 100),
        website="https://www." + "haustechnik-verhaag-" * 8 + "kleve.example/",
    )
    office = OfficeUserFactory(
        first_name=filled("Sandra Maria", 150), last_name=filled("Brinkmann-Terhorst", 150), email=longest_email()
    )
    service_type = ServiceTypeFactory(
        name=filled("Boiler maintenance", 100),
        name_de=filled("Heizungswartung", 100),
        name_nl=filled("CV-onderhoud", 100),
        duration=timedelta(hours=1),
        arrival_window=timedelta(hours=2),
        buffer_after=timedelta(0),
    )
    technician = TechnicianFactory(display_name=filled("Jan-Hendrik Verhaag", 100))
    return {"office": office, "service_type": service_type, "technician": technician}


def longest_visit(longest, *, name: str, language: str, hour: int, day: int, **kwargs):
    customer = CustomerFactory(
        full_name=name,
        responsible=longest["office"],
        preferred_language=language,
        street=filled("Hagsche Straße", 200),
        city=filled("Kleve-Kellen", 100),
    )
    return AppointmentFactory(
        # A seven-digit id: the longest short link a firm will print for years.
        id=1_000_000 + day * 100 + hour,
        customer=customer,
        service_type=longest["service_type"],
        technician=longest["technician"],
        window_start=local_dt(day, hour),
        **kwargs,
    )


NAMES = {"longest the model allows": filled("Wohnungseigentümergemeinschaft", 200), "WEG": WEG, "emoji": EMOJI_NAME}


@pytest.mark.parametrize("language", ["de", "nl", "en"])
@pytest.mark.parametrize("name", list(NAMES))
def test_every_card_is_one_a6_page_however_long_its_texts(longest, language, name):
    missed = longest_visit(
        longest, name=NAMES[name], language=language, hour=8, day=-1, status=AppointmentStatus.MISSED
    )
    attempt = VisitAttemptFactory(appointment=missed, at=local_dt(-1, 10, 2))
    for hour in (8, 10, 12, 14, 16, 18):
        longest_visit(longest, name=NAMES[name], language=language, hour=hour, day=1)

    missed_card = render_missed_card(attempt=attempt)
    day_pack = render_day_pack(technician=longest["technician"], day=timezone.localdate() + timedelta(days=1))
    blank = render_blank_cards(count=3, language=language)

    assert (page_count(missed_card), page_count(day_pack), page_count(blank)) == (1, 6, 3)


def printed_lines(pdf: bytes) -> list[str]:
    return [
        " ".join(line.replace("\N{NO-BREAK SPACE}", " ").split())
        for page in PdfReader(io.BytesIO(pdf)).pages
        for line in page.extract_text().splitlines()
    ]


@pytest.mark.parametrize("language", ["de", "nl", "en"])
def test_the_short_link_is_printed_on_one_line_and_the_phone_on_its_own(longest, language):
    appointment = longest_visit(longest, name=WEG, language=language, hour=8, day=1)
    code = card_url(appointment).rsplit("/", 1)[1]
    phone = "+49 2821 123456"

    lines = printed_lines(
        render_day_pack(technician=longest["technician"], day=timezone.localdate() + timedelta(days=1))
    )

    assert any(line.endswith(f"/r/{code}") for line in lines), lines
    # Under "Or call …:" the number has a line of its own, without a stray full stop after it.
    assert phone in lines
    assert not any(f"{phone}." in line for line in lines)


@pytest.mark.parametrize("language", ["de", "nl", "en"])
def test_the_blank_card_asks_for_the_reference_by_the_name_its_field_has(setup, language):
    with translation.override(language):
        label = translation.gettext("Reference")

    text = one_line(pdf_text(render_blank_cards(count=1, language=language)))

    # Once as the field's label, once in the sentence that asks for it.
    assert text.lower().count(label.lower()) == 2


def test_emoji_in_a_name_are_printed_with_an_emoji_font(setup):
    customer = CustomerFactory(full_name=EMOJI_NAME, responsible=setup["office"], preferred_language="nl")

    pdf = render_missed_card(attempt=missed_attempt(setup, customer=customer))

    fonts = {
        str(font.get_object()["/BaseFont"])
        for page in PdfReader(io.BytesIO(pdf)).pages
        for font in page["/Resources"]["/Font"].values()
    }
    assert any("NotoColorEmoji" in font.replace("-", "") for font in fonts), fonts


def test_the_emoji_font_is_installed_wherever_cards_are_printed():
    # The image that serves the cards and the CI that tests them install it; the card names it.
    assert "fonts-noto-color-emoji" in (ROOT / "Dockerfile").read_text()
    assert "fonts-noto-color-emoji" in (ROOT / ".ci" / "run").read_text()
    assert '"Noto Color Emoji"' in (ROOT / "static" / "cards" / "card.css").read_text()


# Hostile input ---------------------------------------------------------------------


@pytest.fixture
def tripwire():
    """A local HTTP server that records every request: nothing on a card may reach it."""
    requests = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            requests.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield {"url": f"http://127.0.0.1:{server.server_port}", "requests": requests}
    server.shutdown()
    server.server_close()


def hostile_names(base_url):
    return [
        f'<img src="{base_url}/pixel">',
        f'<link rel=stylesheet href="{base_url}/style.css">',
        '<link rel=attachment href="file:///etc/passwd">',
        "https://evil.example/",
    ]


def test_hostile_customer_names_are_printed_as_text_and_fetch_nothing(setup, tripwire):
    for name in hostile_names(tripwire["url"]):
        customer = CustomerFactory(full_name=name, responsible=setup["office"], preferred_language="en")
        attempt = missed_attempt(setup, customer=customer)
        attempt.note = f'<img src="{tripwire["url"]}/note">'

        pdf = render_missed_card(attempt=attempt)

        assert name in pdf_text(pdf).replace("\n", "")
        assert PdfReader(io.BytesIO(pdf)).attachments == {}
    assert tripwire["requests"] == []


def test_hostile_names_in_a_day_pack_fetch_nothing(setup, tripwire):
    for hour, name in zip((8, 10, 12, 14), hostile_names(tripwire["url"]), strict=True):
        customer = CustomerFactory(full_name=name, responsible=setup["office"], preferred_language="de")
        AppointmentFactory(
            customer=customer,
            service_type=setup["service_type"],
            technician=setup["technician"],
            window_start=local_dt(1, hour),
            site_street=f'<img src="{tripwire["url"]}/street">',
        )

    pdf = render_day_pack(technician=setup["technician"], day=timezone.localdate() + timedelta(days=1))

    assert page_count(pdf) == 4
    assert PdfReader(io.BytesIO(pdf)).attachments == {}
    assert tripwire["requests"] == []


# The URL fetcher ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/pixel.png",
        "https://evil.example/card.css",
        "ftp://evil.example/card.css",
        "file:///etc/passwd",
        "data:text/css,body{color:red}",
        f"{STATIC_BASE_URL}../../../../etc/passwd",
        f"{STATIC_BASE_URL}cards/../../config/settings.py",
        f"{STATIC_BASE_URL}%2e%2e/%2e%2e/etc/passwd",
        f"{STATIC_BASE_URL}cards/%2e%2e/selfservice.css/../../../../etc/passwd",
        f"{STATIC_BASE_URL}/etc/passwd",
        f"{STATIC_BASE_URL}cards/nothing-here.css",
        "https://static.doorstep.invalid.evil.example/static/cards/card.css",
        # Generated images exist only while their own card renders.
        f"{GENERATED_BASE_URL}qr-D-1.png",
    ],
)
def test_url_fetcher_refuses_anything_but_our_static_files(url):
    with pytest.raises(ResourceRefused):
        StaticFilesFetcher().fetch(url)


def test_url_fetcher_serves_the_card_stylesheet():
    response = StaticFilesFetcher().fetch(f"{STATIC_BASE_URL}cards/card.css")

    assert response.content_type == "text/css"
    assert b"@page" in response.read()


# The day pack ----------------------------------------------------------------------


def test_day_pack_has_a_card_for_each_of_the_technicians_visits_that_day(setup):
    technician = setup["technician"]
    day = timezone.localdate() + timedelta(days=2)
    names = ["Second Visit", "First Visit", "Third Visit"]
    for hour, name, status in zip(
        (10, 8, 14),
        names,
        (AppointmentStatus.SCHEDULED, AppointmentStatus.EN_ROUTE, AppointmentStatus.ON_SITE),
        strict=True,
    ):
        AppointmentFactory(
            customer=CustomerFactory(full_name=name, responsible=setup["office"], preferred_language="en"),
            service_type=setup["service_type"],
            technician=technician,
            window_start=local_dt(2, hour),
            status=status,
        )
    AppointmentFactory(
        customer=CustomerFactory(full_name="Cancelled Customer", responsible=setup["office"]),
        technician=technician,
        window_start=local_dt(2, 16),
        status=AppointmentStatus.CANCELLED,
    )
    # The office asked this customer for a new time: nobody drives to the old one.
    AppointmentFactory(
        customer=CustomerFactory(full_name="Waiting Customer", responsible=setup["office"]),
        technician=technician,
        window_start=local_dt(2, 18),
        status=AppointmentStatus.NEW_TIME,
    )
    AppointmentFactory(
        customer=CustomerFactory(full_name="Other Technicians Customer", responsible=setup["office"]),
        window_start=local_dt(2, 8),
    )
    AppointmentFactory(
        customer=CustomerFactory(full_name="Next Day Customer", responsible=setup["office"]),
        technician=technician,
        window_start=local_dt(3, 8),
    )

    pdf = render_day_pack(technician=technician, day=day)

    pages = [one_line(page.extract_text()) for page in PdfReader(io.BytesIO(pdf)).pages]
    assert len(pages) == 3
    assert ["First Visit" in pages[0], "Second Visit" in pages[1], "Third Visit" in pages[2]] == [True] * 3
    text = " ".join(pages)
    assert "Cancelled Customer" not in text
    assert "Waiting Customer" not in text
    assert "Other Technicians Customer" not in text
    assert "Next Day Customer" not in text


def test_day_pack_cards_leave_the_time_to_be_written_in(setup):
    appointment = AppointmentFactory(
        customer=setup["customer"], service_type=setup["service_type"], technician=setup["technician"]
    )
    day = timezone.localdate(appointment.window_start)

    text = one_line(pdf_text(render_day_pack(technician=setup["technician"], day=day)))

    assert "Anna Schmitz" in text
    assert f"D-{appointment.pk}" in text
    assert card_url(appointment).removeprefix("http://") in text.replace(" ", "")
    # The window is printed (08:00–12:00); no attempt time is.
    assert "08:00" in text and "10:02" not in text


def test_empty_day_gives_one_page_saying_so(setup):
    pdf = render_day_pack(technician=setup["technician"], day=timezone.localdate() + timedelta(days=30))

    assert page_count(pdf) == 1
    assert "Jan Verhaag" in pdf_text(pdf)


# Blank cards -----------------------------------------------------------------------


def test_blank_cards_print_the_firms_contact_on_each_card(setup):
    pdf = render_blank_cards(count=3, language="en")

    pages = [one_line(page.extract_text()) for page in PdfReader(io.BytesIO(pdf)).pages]
    assert len(pages) == 3
    assert all("+49 2821 100000" in page and "office@firm.example" in page for page in pages)


@pytest.mark.parametrize("count", [0, 41, -1])
def test_blank_cards_refuse_a_silly_count(setup, count):
    with pytest.raises(ValueError):
        render_blank_cards(count=count, language="en")

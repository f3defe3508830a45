"""The technician's calendar feed: read back by two independent parsers (icalendar and vobject), its
secret link issued, replaced and revoked by the office."""

import hashlib
from datetime import timedelta

import pytest
import time_machine
import vobject
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext
from icalendar import Calendar

from appointments.models import AppointmentStatus
from appointments.services import AppointmentError, appointment_cancel, appointment_replan, appointment_schedule
from technicians.feed import DAYS_BACK, visit_uid
from technicians.models import CalendarFeed
from technicians.services import feed_issue, feed_revoke
from tests.config.test_admin_pages import english_on
from tests.factories import (
    AppointmentFactory,
    CustomerFactory,
    FirmFactory,
    OfficeUserFactory,
    ServiceTypeFactory,
    TechnicianFactory,
    local_dt,
)

pytestmark = pytest.mark.django_db
Status = AppointmentStatus


def _(message: str) -> str:
    """What the feed says: technicians read the firm's language."""
    with translation.override(settings.LANGUAGE_CODE):
        return gettext(message)


@pytest.fixture
def office():
    return OfficeUserFactory()


@pytest.fixture
def technician():
    return TechnicianFactory(display_name="Jan Verhaag")


@pytest.fixture
def firm():
    return FirmFactory()


def feed_path(token: str) -> str:
    return reverse("technician:feed", args=[token])


def link_for(technician, office) -> str:
    return feed_path(feed_issue(technician=technician, actor=office).token)


def fetch(client, path: str):
    response = client.get(path)
    assert response.status_code == 200, response.status_code
    return response


def events_by_icalendar(body: bytes) -> dict[str, dict]:
    calendar = Calendar.from_ical(body)
    return {
        str(event["UID"]): {
            "start": event.start,
            "end": event.end,
            "summary": str(event["SUMMARY"]),
            "description": str(event["DESCRIPTION"]),
            "location": str(event["LOCATION"]),
        }
        for event in calendar.walk("VEVENT")
    }


def events_by_vobject(body: bytes) -> dict[str, dict]:
    calendar = vobject.readOne(body.decode())
    return {
        event.uid.value: {
            "start": event.dtstart.value,
            "end": event.dtend.value,
            "summary": event.summary.value,
            "description": event.description.value,
            "location": event.location.value,
        }
        for event in calendar.contents.get("vevent", [])
    }


def test_both_parsers_read_the_same_visits_at_their_planned_times(client, technician, office, firm):
    visits = [
        AppointmentFactory(technician=technician, window_start=local_dt(day, 8), planned_start=local_dt(day, 9))
        for day in (1, 2)
    ]
    response = fetch(client, link_for(technician, office))

    by_icalendar = events_by_icalendar(response.content)
    by_vobject = events_by_vobject(response.content)

    assert by_icalendar == by_vobject
    assert set(by_icalendar) == {visit_uid(visit) for visit in visits}
    for visit in visits:
        event = by_icalendar[visit_uid(visit)]
        assert event["start"] == visit.planned_start
        assert event["end"] == visit.planned_start + visit.expected_duration
        assert event["start"].utcoffset() == timezone.localtime(visit.planned_start).utcoffset()
        assert visit.site_postcode in event["summary"] and visit.site_street in event["location"]
        assert _("Arrival window %(window)s") % {"window": "08:00–12:00"} in event["description"]
        assert visit.customer.full_name in event["description"]
        assert f"http://localhost:8000/technician/visit/{visit.pk}/" in event["description"]
    assert f"DTSTART;TZID={settings.TIME_ZONE}:" in response.content.decode()


def test_the_feed_is_a_utf8_calendar_kept_briefly_and_privately_with_an_etag(client, technician, office, firm):
    AppointmentFactory(
        technician=technician, customer=CustomerFactory(full_name="Jürgen Müßig"), window_start=local_dt(1, 8)
    )
    path = link_for(technician, office)

    response = fetch(client, path)
    again = client.get(path, headers={"if-none-match": response["ETag"]})

    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    [event] = events_by_vobject(response.content).values()
    assert "Jürgen Müßig" in event["description"]
    assert set(response["Cache-Control"].split(", ")) == {"private", "max-age=300"}
    assert response["Referrer-Policy"] == "no-referrer"
    assert {"REFRESH-INTERVAL:PT1H", "X-PUBLISHED-TTL:PT1H"} <= set(response.content.decode().splitlines())
    assert "Set-Cookie" not in response.headers
    assert again.status_code == 304


def test_a_replan_keeps_the_uid_and_moves_the_event(client, technician, office, firm):
    service_type = ServiceTypeFactory(duration=timedelta(hours=1), buffer_after=timedelta(minutes=15))
    technician.service_types.add(service_type)
    visit = appointment_schedule(
        customer=CustomerFactory(),
        service_type=service_type,
        technician=technician,
        window_start=local_dt(2, 8),
        actor=office,
    )
    path = link_for(technician, office)
    before = events_by_vobject(fetch(client, path).content)

    appointment_replan(appointment=visit, planned_start=local_dt(2, 10, 30), actor=office)
    after = events_by_vobject(fetch(client, path).content)

    assert set(before) == set(after) == {visit_uid(visit)}
    assert before[visit_uid(visit)]["start"] == local_dt(2, 8)
    assert after[visit_uid(visit)]["start"] == local_dt(2, 10, 30)
    assert after[visit_uid(visit)]["end"] == local_dt(2, 11, 30)


def test_cancelled_requested_and_given_up_visits_are_left_out_done_ones_stay(client, technician, office, firm):
    shown = [
        AppointmentFactory(technician=technician, window_start=local_dt(-3, 8), status=Status.COMPLETED),
        AppointmentFactory(technician=technician, window_start=local_dt(-2, 8), status=Status.MISSED),
        AppointmentFactory(technician=technician, window_start=local_dt(1, 8), status=Status.SCHEDULED),
    ]
    cancelled = AppointmentFactory(technician=technician, window_start=local_dt(2, 8))
    appointment_cancel(appointment=cancelled, reason="Kunde verreist", actor=office)
    AppointmentFactory(technician=technician, window_start=local_dt(3, 8), status=Status.REQUESTED)
    AppointmentFactory(technician=technician, window_start=local_dt(4, 8), status=Status.NEW_TIME)

    events = events_by_icalendar(fetch(client, link_for(technician, office)).content)

    assert set(events) == {visit_uid(visit) for visit in shown}


def test_the_feed_reaches_two_weeks_back_and_to_the_booking_horizon(client, technician, office, firm):
    horizon = settings.BOOKING_HORIZON_WEEKS * 7
    inside = [
        AppointmentFactory(technician=technician, window_start=local_dt(-DAYS_BACK, 8), status=Status.COMPLETED),
        AppointmentFactory(technician=technician, window_start=local_dt(horizon, 8)),
    ]
    AppointmentFactory(technician=technician, window_start=local_dt(-DAYS_BACK - 1, 8), status=Status.COMPLETED)
    AppointmentFactory(technician=technician, window_start=local_dt(horizon + 1, 8))

    events = events_by_icalendar(fetch(client, link_for(technician, office)).content)

    assert set(events) == {visit_uid(visit) for visit in inside}


def test_a_technicians_feed_never_shows_a_colleagues_visits(client, technician, office, firm):
    own = AppointmentFactory(technician=technician, window_start=local_dt(1, 8))
    colleague = TechnicianFactory()
    AppointmentFactory(technician=colleague, window_start=local_dt(1, 8))
    link_for(colleague, office)

    events = events_by_vobject(fetch(client, link_for(technician, office)).content)

    assert set(events) == {visit_uid(own)}


def test_no_customer_phone_or_email_unless_the_firm_allows_it(client, technician, office, firm):
    customer = CustomerFactory(email="kunde@example.de", phone="+4928211234567")
    AppointmentFactory(technician=technician, customer=customer, window_start=local_dt(1, 8))
    path = link_for(technician, office)

    hidden = fetch(client, path).content.decode()
    firm.calendar_feed_shows_contact = True
    firm.save()
    shown = events_by_vobject(fetch(client, path).content)

    assert "kunde@example.de" not in hidden and "1234567" not in hidden
    [event] = shown.values()
    assert _("Email: %(email)s") % {"email": "kunde@example.de"} in event["description"]
    assert _("Phone: %(phone)s") % {"phone": "+49 2821 1234567"} in event["description"]


def test_an_empty_feed_is_still_a_calendar_both_parsers_read(client, technician, office):
    response = fetch(client, link_for(technician, office))

    assert events_by_icalendar(response.content) == events_by_vobject(response.content) == {}


# The secret link --------------------------------------------------------------------------------------


@pytest.mark.parametrize("token", ["not-a-token", "x" * 43, "y" * 500])
def test_an_unknown_token_is_a_bare_404(client, token, technician, office):
    link_for(technician, office)

    response = client.get(feed_path(token))

    assert response.status_code == 404
    assert response.content == b""


def test_a_revoked_link_is_a_404(client, technician, office):
    issued = feed_issue(technician=technician, actor=office)
    fetch(client, feed_path(issued.token))

    feed_revoke(feed=issued.feed, actor=office)

    assert client.get(feed_path(issued.token)).status_code == 404
    issued.feed.refresh_from_db()
    assert issued.feed.revoked_by == office and issued.feed.revoked_at is not None


def test_issuing_a_new_link_kills_the_old_one(client, technician, office):
    first = feed_issue(technician=technician, actor=office)

    second = feed_issue(technician=technician, actor=office, replacing=first.feed)

    assert client.get(feed_path(first.token)).status_code == 404
    assert client.get(feed_path(second.token)).status_code == 200
    assert CalendarFeed.objects.active().get() == second.feed


def test_the_link_stops_working_when_the_technician_leaves(client, technician, office):
    path = link_for(technician, office)

    technician.is_active = False
    technician.save()

    assert client.get(path).status_code == 404


def test_the_token_is_stored_only_as_its_hash(technician, office):
    issued = feed_issue(technician=technician, actor=office)
    feed = CalendarFeed.objects.get()

    assert len(issued.token) >= 43  # 32 random bytes
    assert feed.token_hash == hashlib.sha256(issued.token.encode()).hexdigest()
    assert all(issued.token not in str(value) for value in CalendarFeed.objects.values().get().values())


def test_the_database_refuses_a_second_active_link_for_a_technician(technician, office):
    feed_issue(technician=technician, actor=office)

    with pytest.raises(IntegrityError), transaction.atomic():
        CalendarFeed.objects.create(technician=technician, token_hash="0" * 64)


def test_issuing_refuses_to_replace_a_link_it_was_not_shown(technician, office):
    first = feed_issue(technician=technician, actor=office)
    second = feed_issue(technician=technician, actor=office, replacing=first.feed)

    with pytest.raises(AppointmentError) as no_replacing:
        feed_issue(technician=technician, actor=office)
    with pytest.raises(AppointmentError) as stale:
        feed_issue(technician=technician, actor=office, replacing=first.feed)

    assert (no_replacing.value.code, stale.value.code) == ("feed_exists", "feed_replaced")
    assert CalendarFeed.objects.active().get() == second.feed


def test_the_feed_costs_the_same_queries_for_one_visit_and_for_twenty(client, technician, office, firm):
    path = link_for(technician, office)
    fetch(client, path)  # the first fetch of the hour notes it; later ones only read
    counts = []
    for visits in (1, 19):
        for day in range(visits):
            AppointmentFactory(technician=technician, window_start=local_dt(1 + len(counts) * 20 + day, 8))
        with CaptureQueriesContext(connection) as queries:
            fetch(client, path)
        counts.append(len(queries))

    assert counts[0] == counts[1] <= 3


def test_a_fetch_is_noted_at_most_once_an_hour(client, technician, office):
    issued = feed_issue(technician=technician, actor=office)
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        first_fetch = timezone.now()
        fetch(client, feed_path(issued.token))
        traveller.shift(timedelta(minutes=59))
        fetch(client, feed_path(issued.token))
        issued.feed.refresh_from_db()
        noted_first = issued.feed.last_fetched_at
        traveller.shift(timedelta(minutes=2))
        fetch(client, feed_path(issued.token))
        issued.feed.refresh_from_db()

    assert noted_first == first_fetch
    assert issued.feed.last_fetched_at == first_fetch + timedelta(minutes=61)


def test_the_feed_is_in_the_firms_language_whatever_the_client_asks_for(client, technician, office, firm):
    AppointmentFactory(technician=technician, window_start=local_dt(1, 8))

    response = client.get(link_for(technician, office), headers={"accept-language": "nl"})

    [event] = events_by_icalendar(response.content).values()
    assert event["description"].startswith(_("Arrival window %(window)s") % {"window": "08:00–12:00"})
    assert settings.LANGUAGE_CODE == "de" and "Ankunftszeitfenster" in event["description"]


# The office's admin -----------------------------------------------------------------------------------


@pytest.fixture
def office_client(client, office):
    client.force_login(office)
    return client


def issued_url_on(page: str) -> str:
    start = page.index('value="http://localhost:8000/technician/feed/') + len('value="')
    return page[start : page.index('"', start)]


def test_the_office_issues_a_first_link_and_sees_it_once(office_client, technician):
    add = reverse("admin:technicians_calendarfeed_add")

    form = office_client.get(add)
    response = office_client.post(add, {"technician": technician.pk})

    assert form.status_code == 200 and technician.display_name in form.content.decode()
    assert response.status_code == 200
    url = issued_url_on(response.content.decode())
    feed = CalendarFeed.objects.get()
    assert feed.created_by.pk == int(office_client.session["_auth_user_id"])
    assert office_client.get(url.removeprefix("http://localhost:8000")).status_code == 200
    listing = office_client.get(reverse("admin:technicians_calendarfeed_changelist")).content.decode()
    change = office_client.get(reverse("admin:technicians_calendarfeed_change", args=[feed.pk])).content.decode()
    token = url.rsplit("/", 1)[1].removesuffix(".ics")
    assert token not in listing and token not in change
    # A technician with a link is not offered again (replacing is the list's action).
    again = office_client.post(add, {"technician": technician.pk})
    assert again.status_code == 200 and CalendarFeed.objects.count() == 1


def test_an_issue_form_sent_again_says_the_technician_has_a_link_now(office_client, technician):
    """A reload of the page that showed the new link: nothing is issued, and the clerk is told why in words,
    not "Select a valid choice"."""
    add = reverse("admin:technicians_calendarfeed_add")
    office_client.post(add, {"technician": technician.pk})

    again = office_client.post(add, {"technician": technician.pk})

    assert again.status_code == 200 and CalendarFeed.objects.count() == 1
    errors = again.context["form"].errors["technician"]
    assert len(errors) == 1 and technician.display_name in errors[0]
    # Still offered only the technicians without a link.
    assert technician.display_name not in again.context["form"]["technician"].as_widget()


def test_the_office_replaces_a_link_and_a_resent_form_issues_nothing(office_client, technician, office):
    old = feed_issue(technician=technician, actor=office)
    changelist = reverse("admin:technicians_calendarfeed_changelist")
    action = {"action": "issue_new_link", "_selected_action": [old.feed.pk]}

    confirm = office_client.post(changelist, action)
    assert confirm.status_code == 200 and CalendarFeed.objects.count() == 1
    issued = office_client.post(changelist, {**action, "apply": "1"})
    resent = office_client.post(changelist, {**action, "apply": "1"}, follow=True)

    new_url = issued_url_on(issued.content.decode())
    assert office_client.get(feed_path(old.token)).status_code == 404
    assert office_client.get(new_url.removeprefix("http://localhost:8000")).status_code == 200
    assert resent.status_code == 200 and CalendarFeed.objects.count() == 2
    assert [message.level_tag for message in resent.context["messages"]] == ["error"]


def test_a_new_link_is_issued_from_a_revoked_one(office_client, technician, office):
    """A lost phone: the office revoked its link; for the new phone it picks the revoked row and issues anew."""
    old = feed_issue(technician=technician, actor=office)
    feed_revoke(feed=old.feed, actor=office)
    changelist = reverse("admin:technicians_calendarfeed_changelist")
    action = {"action": "issue_new_link", "_selected_action": [old.feed.pk], "apply": "1"}

    issued = office_client.post(changelist, action)
    resent = office_client.post(changelist, action, follow=True)

    new_url = issued_url_on(issued.content.decode())
    assert office_client.get(new_url.removeprefix("http://localhost:8000")).status_code == 200
    assert CalendarFeed.objects.count() == 2 and CalendarFeed.objects.active().count() == 1
    # Sent again: nothing more is issued, and the clerk is told the technician has a link now.
    [message] = resent.context["messages"]
    assert message.level_tag == "error" and technician.display_name in message.message


def test_the_office_revokes_a_link(office_client, technician, office):
    issued = feed_issue(technician=technician, actor=office)

    response = office_client.post(
        reverse("admin:technicians_calendarfeed_changelist"),
        {"action": "revoke_link", "_selected_action": [issued.feed.pk]},
        follow=True,
    )

    assert response.status_code == 200
    assert office_client.get(feed_path(issued.token)).status_code == 404
    assert CalendarFeed.objects.get().revoked_by == office


@pytest.mark.parametrize("language", ["de", "nl"])
def test_the_calendar_link_pages_read_without_english(office_client, technician, office, language):
    old = feed_issue(technician=technician, actor=office)
    feed_issue(technician=TechnicianFactory(), actor=office)
    headers = {"accept-language": language}
    changelist = reverse("admin:technicians_calendarfeed_changelist")
    replace = {"action": "issue_new_link"}

    pages = [
        office_client.get(changelist, headers=headers),
        office_client.get(changelist + "?state=active", headers=headers),
        office_client.get(reverse("admin:technicians_calendarfeed_add"), headers=headers),
        office_client.get(reverse("admin:technicians_calendarfeed_change", args=[old.feed.pk]), headers=headers),
        office_client.post(changelist, {**replace, "_selected_action": [old.feed.pk]}, headers=headers),
        office_client.post(changelist, {**replace, "_selected_action": [old.feed.pk], "apply": "1"}, headers=headers),
    ]

    assert [page.status_code for page in pages] == [200] * len(pages)
    assert {index: english_on(page.content.decode()) for index, page in enumerate(pages)} == dict.fromkeys(
        range(len(pages)), []
    )


def test_the_firm_page_offers_to_show_contacts_in_calendars(office_client, firm):
    response = office_client.get(reverse("admin:customers_firm_change", args=[firm.pk]))

    assert "calendar_feed_shows_contact" in response.content.decode()

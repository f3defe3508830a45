"""My desk (/desk/): what the signed-in office person owes, the office's shared queues, online changes."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.test.utils import override_settings
from django.urls import reverse

from desk.models import DeskVisit, PromiseKind, PromiseState
from desk.selectors import desk_counts
from journal.models import Channel, Direction
from journal.services import journal_record
from tests.factories import (
    AppointmentFactory,
    CustomerFactory,
    OfficeUserFactory,
    PromiseFactory,
    TechnicianFactory,
    VisitAttemptFactory,
)

BERLIN = ZoneInfo("Europe/Berlin")
# A Wednesday at 11:00: "today" runs to midnight, "this week" to Sunday night.
NOW = datetime(2026, 3, 4, 11, 0, tzinfo=BERLIN)
URL = reverse("desk:page")
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def wednesday_morning():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture(autouse=True)
def english(client):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"


def at(days: int, hour: int, minute: int = 0) -> datetime:
    return (NOW + timedelta(days=days)).replace(hour=hour, minute=minute)


def promise(owner, *, due_at, kind=PromiseKind.CALL_BACK, **fields):
    return PromiseFactory(owner=owner, due_at=due_at, kind=kind, customer=CustomerFactory(responsible=owner), **fields)


def page(client, **params):
    response = client.get(URL, params)
    assert response.status_code == 200
    return response, response.content.decode()


def section(html: str, key: str) -> str:
    """The HTML of one section of the page, by its heading's id."""
    start = html.index(f'id="desk-{key}"')
    return html[start : html.index("</section>", start)]


def test_my_desk_lists_my_promises_overdue_due_today_and_later_this_week(admin_client_office, office_user):
    late = promise(office_user, due_at=at(-1, 16), kind=PromiseKind.SEND_QUOTE, note="Quote for the new boiler")
    late.customer.full_name = "Wohnungseigentümergemeinschaft Kastanienallee 12"
    late.customer.phone = "+4930123456"
    late.customer.save()
    today = promise(office_user, due_at=at(0, 15))
    friday = promise(office_user, due_at=at(2, 9))
    next_week = promise(office_user, due_at=at(6, 9))

    _, html = page(admin_client_office)

    overdue = section(html, "overdue")
    assert "Wohnungseigentümergemeinschaft Kastanienallee 12" in overdue
    assert 'href="tel:+4930123456"' in overdue and "Quote for the new boiler" in overdue
    assert "late by 19" in overdue  # hours, since yesterday 16:00
    assert reverse("admin:customers_customer_change", args=[late.customer_id]) in overdue
    assert today.customer.full_name in section(html, "today")
    assert friday.customer.full_name in section(html, "week")
    assert next_week.customer.full_name not in html.replace(section(html, "callbacks"), "")


def test_a_promise_tied_to_a_visit_names_the_visit(admin_client_office, office_user):
    visit = AppointmentFactory(customer=CustomerFactory(responsible=office_user))
    PromiseFactory(
        owner=office_user, customer=visit.customer, appointment=visit, kind="call_before_visit", due_at=at(0, 16)
    )

    _, html = page(admin_client_office)

    assert f"D-{visit.pk}" in section(html, "today")
    assert "Log the call that keeps it" in section(html, "today")


def test_closed_promises_and_other_peoples_promises_are_not_on_my_desk(admin_client_office, office_user):
    colleague = OfficeUserFactory(first_name="Hannelore", last_name="Brinkmann-Oostenbrink")
    theirs = promise(colleague, due_at=at(-1, 9), kind=PromiseKind.SEND_INFORMATION)
    kept = promise(office_user, due_at=at(-1, 9), kind=PromiseKind.CHECK)
    kept.state, kept.closed_at = PromiseState.DONE, NOW
    kept.save()

    _, html = page(admin_client_office)

    assert theirs.customer.full_name not in section(html, "overdue")
    assert kept.customer.full_name not in html
    assert "Nothing overdue." in section(html, "overdue")


def test_the_team_view_shows_everyones_promises_with_their_owner(admin_client_office, office_user):
    colleague = OfficeUserFactory(first_name="Hannelore", last_name="Brinkmann")
    theirs = promise(colleague, due_at=at(-1, 9), kind=PromiseKind.SEND_INFORMATION)

    _, html = page(admin_client_office, view="team")

    assert theirs.customer.full_name in section(html, "overdue")
    assert "owner: Hannelore Brinkmann" in section(html, "overdue")


def test_a_lead_sees_the_open_promises_per_person_in_the_team_view(client):
    lead = OfficeUserFactory(is_superuser=False, first_name="Lena", last_name="Lead")
    lead.groups.add(Group.objects.create(name="Office leads"))
    colleague = OfficeUserFactory(first_name="Hannelore", last_name="Brinkmann")
    promise(colleague, due_at=at(-1, 9))
    promise(colleague, due_at=at(0, 14))
    client.force_login(lead)

    _, html = page(client, view="team")

    owners = section(html, "owners")
    assert "Hannelore Brinkmann" in owners
    assert '<td class="number is-late">1</td>' in owners


def test_someone_who_is_not_a_lead_sees_no_counts_per_person(client):
    clerk = OfficeUserFactory(is_superuser=False)
    promise(OfficeUserFactory(), due_at=at(-1, 9))
    client.force_login(clerk)

    _, html = page(client, view="team")

    assert 'id="desk-owners"' not in html


def test_callbacks_and_replies_awaiting_are_the_whole_offices(admin_client_office, office_user):
    colleague = OfficeUserFactory(first_name="Hannelore", last_name="Brinkmann")
    callback = promise(colleague, due_at=at(1, 9), kind=PromiseKind.CALL_BACK)
    mail = promise(colleague, due_at=at(1, 12), kind=PromiseKind.REPLY_MAIL)
    feedback = promise(office_user, due_at=at(2, 12), kind=PromiseKind.REPLY_FEEDBACK)
    quote = promise(colleague, due_at=at(1, 12), kind=PromiseKind.SEND_QUOTE)

    _, html = page(admin_client_office)

    assert callback.customer.full_name in section(html, "callbacks")
    replies = section(html, "replies")
    assert mail.customer.full_name in replies and feedback.customer.full_name in replies
    assert quote.customer.full_name not in html


def test_missed_visits_flagged_for_follow_up_are_listed(admin_client_office):
    flagged = VisitAttemptFactory(follow_up_flagged_at=NOW - timedelta(days=1))
    closed = VisitAttemptFactory(follow_up_flagged_at=NOW - timedelta(days=1), follow_up_closed_at=NOW)

    _, html = page(admin_client_office)

    follow_ups = section(html, "follow-ups")
    assert flagged.appointment.customer.full_name in follow_ups
    assert closed.appointment.customer.full_name not in follow_ups


def online_change(action="appointment.rescheduled", *, occurred_at, summary="Visit moved online."):
    return journal_record(
        customer=CustomerFactory(),
        action=action,
        summary=summary,
        channel=Channel.WEB,
        direction=Direction.INBOUND,
        occurred_at=occurred_at,
    )


def test_changes_customers_made_online_show_until_marked_as_seen(admin_client_office, office_user):
    moved = online_change(occurred_at=NOW - timedelta(hours=2))
    cancelled = online_change("appointment.cancelled", occurred_at=NOW - timedelta(hours=1))
    by_the_office = journal_record(
        customer=CustomerFactory(), action="appointment.rescheduled", summary="Moved by phone.", occurred_at=NOW
    )

    _, html = page(admin_client_office)
    changes = section(html, "changes")
    assert moved.customer.full_name in changes and "moved online" in changes
    assert cancelled.customer.full_name in changes and "cancelled online" in changes
    assert by_the_office.customer.full_name not in changes
    assert not DeskVisit.objects.exists()  # looking changes nothing

    response = admin_client_office.post(reverse("desk:mark_seen"), {"seen_until": NOW.isoformat()})
    assert response.status_code == 302

    _, html = page(admin_client_office)
    assert moved.customer.full_name not in section(html, "changes")
    assert DeskVisit.objects.get(user=office_user).last_seen_at == NOW


def test_a_change_that_came_in_after_the_page_was_shown_stays_new(admin_client_office):
    shown_at = NOW - timedelta(minutes=5)
    later = online_change("appointment.scheduled", occurred_at=NOW - timedelta(minutes=1))

    admin_client_office.post(reverse("desk:mark_seen"), {"seen_until": shown_at.isoformat()})

    _, html = page(admin_client_office)
    assert later.customer.full_name in section(html, "changes")


def test_marking_as_seen_by_a_get_or_with_a_broken_time_changes_nothing(admin_client_office):
    assert admin_client_office.get(reverse("desk:mark_seen")).status_code == 302
    response = admin_client_office.post(reverse("desk:mark_seen"), {"seen_until": "yesterday"}, follow=True)

    assert not DeskVisit.objects.exists()
    assert "Nothing was marked as seen" in response.content.decode()


def test_the_desk_is_for_office_staff_only(client):
    response = client.get(URL)
    assert response.status_code == 302 and reverse("admin:login") in response["Location"]

    client.force_login(TechnicianFactory().user)
    response = client.get(URL)
    assert response.status_code == 302 and reverse("admin:login") in response["Location"]


def test_the_navigation_counts_my_overdue_and_todays_promises_on_the_board_and_the_admin(
    admin_client_office, office_user
):
    promise(office_user, due_at=at(-1, 9))
    promise(office_user, due_at=at(0, 9))  # due at 9 today: overdue at 11
    for hour in (13, 15, 17):
        promise(office_user, due_at=at(0, hour))
    promise(office_user, due_at=at(1, 9))
    promise(OfficeUserFactory(), due_at=at(-1, 9))

    for url in (reverse("dispatch:day"), reverse("admin:index"), URL):
        html = admin_client_office.get(url).content.decode()
        assert (
            f'<a class="desk-link" href="{URL}">My desk (<span class="desk-overdue">2 overdue</span>'
            ' · <span class="desk-today">3 today</span>)</a>' in html
        ), url


def test_the_navigation_counts_are_the_lengths_of_the_lists_they_stand_for(admin_client_office, office_user):
    promise(office_user, due_at=at(-1, 9))
    promise(office_user, due_at=at(0, 9))  # earlier today: overdue now, not also "due today"
    for hour in (13, 23):
        promise(office_user, due_at=at(0, hour))
    promise(office_user, due_at=at(1, 0))  # tomorrow's first minute
    promise(OfficeUserFactory(), due_at=at(0, 15))
    counts = desk_counts(office_user)
    promises_list = reverse("admin:desk_promise_changelist")

    def listed(due: str) -> int:
        return len(admin_client_office.get(promises_list, {"owner": "mine", "due": due}).context["cl"].result_list)

    assert (counts.overdue, counts.today) == (2, 2)
    assert (listed("overdue"), listed("today")) == (counts.overdue, counts.today)
    _, html = page(admin_client_office)
    assert len(section(html, "today").split('class="promise"')) - 1 == counts.today


def test_a_cut_section_links_to_the_list_filtered_as_the_section(admin_client_office, office_user, monkeypatch):
    monkeypatch.setattr("desk.selectors.SECTION_ROWS", 1)
    for hour in (8, 9):
        promise(office_user, due_at=at(0, hour))

    _, mine = page(admin_client_office)
    _, team = page(admin_client_office, view="team")

    promises_list = reverse("admin:desk_promise_changelist")
    assert f'href="{promises_list}?owner=mine&amp;due=overdue"' in section(mine, "overdue")
    assert f'href="{promises_list}?due=overdue"' in section(team, "overdue")


def test_the_navigation_counts_in_one_query(office_user, django_assert_num_queries):
    promise(office_user, due_at=at(-1, 9))
    promise(office_user, due_at=at(0, 16))

    with django_assert_num_queries(1):
        counts = desk_counts(office_user)

    assert (counts.overdue, counts.today) == (1, 1)


def test_the_desk_and_its_count_speak_the_offices_language(admin_client_office, office_user):
    promise(office_user, due_at=at(-1, 9))

    german = admin_client_office.get(URL, HTTP_ACCEPT_LANGUAGE="de").content.decode()
    dutch = admin_client_office.get(URL, HTTP_ACCEPT_LANGUAGE="nl").content.decode()

    assert 'Mein Schreibtisch (<span class="desk-overdue">1 überfällig</span>)' in german
    assert "Meine überfälligen Zusagen" in german and "Anruf erfassen, der sie einlöst" in german
    assert 'Mijn bureau (<span class="desk-overdue">1 te laat</span>)' in dutch


def test_with_nothing_due_the_navigation_just_says_my_desk(admin_client_office):
    html = admin_client_office.get(reverse("admin:index")).content.decode()
    assert f'<a class="desk-link" href="{URL}">My desk</a>' in html


def build_desk(user, count: int) -> None:
    """`count` open promises of every kind over the sections, half tied to a visit, plus queues' rows."""
    colleague = OfficeUserFactory()
    kinds = list(PromiseKind.values)
    for index in range(count):
        owner = user if index % 2 else colleague
        customer = CustomerFactory(responsible=owner, phone="+4930123456")
        visit = AppointmentFactory(customer=customer) if index % 4 == 0 else None
        PromiseFactory(
            owner=owner,
            customer=customer,
            appointment=visit,
            kind=kinds[index % len(kinds)],
            due_at=NOW + timedelta(hours=(index % 60) - 30),
        )
    for index in range(count // 10):
        VisitAttemptFactory(follow_up_flagged_at=NOW - timedelta(days=1))
        online_change(occurred_at=NOW - timedelta(minutes=index + 1))


@pytest.mark.parametrize("view", ["mine", "team"])
@pytest.mark.parametrize("count", [10, 200])
@override_settings(DESK_LEADS_GROUP="Office leads")
def test_the_desk_runs_the_same_queries_at_10_and_at_200_open_promises(
    admin_client_office, office_user, count, view, django_assert_num_queries
):
    build_desk(office_user, count)
    page(admin_client_office, view=view)  # the session is read once, like on any page

    # Session, user, the office check, the lead check, the counts, three lists of mine, callbacks,
    # replies, follow-ups (rows, count), the last look, online changes (rows, count), the mail banner; the team view
    # adds the count per person. None per promise.
    with django_assert_num_queries(17 if view == "team" else 16):  # + the session's app (django_otp)
        response, html = page(admin_client_office, view=view)

    assert html.count('class="promise') >= min(count, 50) // 2


def test_marking_as_seen_never_goes_back_nor_into_the_future(office_user):
    from desk.services import desk_mark_seen

    desk_mark_seen(user=office_user, seen_until=NOW + timedelta(days=1))
    assert DeskVisit.objects.get(user=office_user).last_seen_at == NOW

    desk_mark_seen(user=office_user, seen_until=NOW - timedelta(hours=1))  # an older tab
    assert DeskVisit.objects.get(user=office_user).last_seen_at == NOW

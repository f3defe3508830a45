"""A technician whose phone is lost signs it out from the phone in their hand, and stays signed in there; the lost
phone's calendar app stops getting their visits (customers' names and addresses) too."""

import re

import pytest
from django.conf import settings as django_settings
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from accounts.sessions import current_generation
from technicians.models import CalendarFeed
from technicians.services import devices_sign_out, feed_issue, feed_revoke
from tests.factories import OfficeUserFactory, TechnicianFactory

pytestmark = pytest.mark.django_db

PASSWORD = "van-keys-2026"
DAY = reverse("technician:day")
SIGN_OUT_OTHERS = reverse("technician:sign_out_others")
SIGNED_OUT = "You are signed out on all other devices. You stay signed in on this one."
SIGNED_OUT_AND_LINK_STOPPED = (
    "You are signed out on all other devices, and your calendar link is stopped. You stay signed in on this one. "
    "Ask the office for a new calendar link for your new phone."
)
LINK_STOPS_TOO = "Your calendar link is stopped too: ask the office for a new one for your new phone."
CALENDAR_WORDS = ("calendar", "Kalender", "agenda")


def in_language(message: str, language: str = django_settings.LANGUAGE_CODE) -> str:
    with translation.override(language):
        return gettext(message)


def signed_in(username: str) -> Client:
    """A phone on which the technician typed their password."""
    phone = Client()
    response = phone.post(reverse("technician:login"), {"username": username, "password": PASSWORD})
    assert response.status_code == 302
    return phone


def is_signed_in(device: Client) -> bool:
    response = device.get(DAY)
    if response.status_code == 302:
        assert response["Location"].startswith(reverse("technician:login"))
        return False
    assert response.status_code == 200
    return True


@pytest.fixture
def jan(db):
    return TechnicianFactory(user__username="jan", user__password=PASSWORD, display_name="Jan Verhaag")


def test_the_lost_phone_is_signed_out_and_the_new_one_stays_signed_in(jan):
    lost_phone, new_phone = signed_in("jan"), signed_in("jan")

    response = new_phone.post(SIGN_OUT_OTHERS)

    assert response.status_code == 302 and response["Location"] == DAY
    assert not is_signed_in(lost_phone)
    assert is_signed_in(new_phone)
    assert is_signed_in(new_phone), "the new phone stays signed in on later requests too"


def test_the_new_phone_is_told_in_the_offices_language(jan):
    new_phone = signed_in("jan")

    page = new_phone.post(SIGN_OUT_OTHERS, follow=True).content.decode()

    assert in_language(SIGNED_OUT) in page
    assert in_language(SIGNED_OUT) != SIGNED_OUT, "the office's language has this message translated"


def test_the_message_follows_the_language_the_technician_chose(jan):
    new_phone = signed_in("jan")
    new_phone.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "nl"

    page = new_phone.post(SIGN_OUT_OTHERS, follow=True).content.decode()

    assert "U bent op alle andere apparaten afgemeld." in page


def test_the_session_that_stays_gets_a_new_key_and_keeps_its_weeks(jan, settings):
    settings.TECHNICIAN_SESSION_AGE = 30 * 86400
    new_phone = signed_in("jan")
    old_key = new_phone.session.session_key
    # Whoever copied this phone's cookie before holds the old key.
    copied_cookie = Client()
    copied_cookie.cookies[settings.SESSION_COOKIE_NAME] = old_key
    assert is_signed_in(copied_cookie)

    new_phone.post(SIGN_OUT_OTHERS)

    assert new_phone.session.session_key != old_key
    assert not Session.objects.filter(session_key=old_key).exists()
    assert not is_signed_in(copied_cookie)
    assert new_phone.session.get_expiry_age() == 30 * 86400
    assert is_signed_in(new_phone)


def test_a_get_signs_nobody_out(jan):
    lost_phone, new_phone = signed_in("jan"), signed_in("jan")

    response = new_phone.get(SIGN_OUT_OTHERS)

    assert response.status_code == 405
    assert current_generation(jan.user.pk) == 0
    assert is_signed_in(lost_phone) and is_signed_in(new_phone)


def test_a_post_without_the_csrf_token_signs_nobody_out(jan):
    lost_phone = signed_in("jan")
    new_phone = Client(enforce_csrf_checks=True)
    new_phone.force_login(jan.user)

    response = new_phone.post(SIGN_OUT_OTHERS)

    assert response.status_code == 403
    assert current_generation(jan.user.pk) == 0
    assert is_signed_in(lost_phone)


def test_another_technicians_sessions_stay_signed_in(jan):
    TechnicianFactory(user__username="mia", user__password=PASSWORD)
    mias_phone, mias_tablet = signed_in("mia"), signed_in("mia")
    jans_phone = signed_in("jan")

    jans_phone.post(SIGN_OUT_OTHERS)

    assert current_generation(jan.user.pk) == 1
    assert is_signed_in(mias_phone) and is_signed_in(mias_tablet)


def test_a_user_without_a_technician_profile_gets_no_access(db):
    clerk = OfficeUserFactory()
    desk, laptop = Client(), Client()
    for device in (desk, laptop):
        device.force_login(clerk)

    response = desk.post(SIGN_OUT_OTHERS)

    assert response.status_code == 404
    assert current_generation(clerk.pk) == 0
    assert laptop.get(reverse("admin:index")).status_code == 200


def test_someone_not_signed_in_is_sent_to_the_sign_in_and_changes_nothing(jan):
    lost_phone = signed_in("jan")

    response = Client().post(SIGN_OUT_OTHERS)

    assert response.status_code == 302 and response["Location"].startswith(reverse("technician:login"))
    assert current_generation(jan.user.pk) == 0
    assert is_signed_in(lost_phone)


def test_my_day_offers_it_below_the_days_as_a_post_with_csrf(jan):
    page = signed_in("jan").get(DAY).content.decode()

    form = re.search(rf'<form[^>]*action="{SIGN_OUT_OTHERS}"[^>]*>(.*?)</form>', page, re.S)
    assert form and 'method="post"' in form.group(0)
    assert 'name="csrfmiddlewaretoken"' in form.group(1)
    assert in_language("Sign out on all other devices") in form.group(1)
    # Below the visits, out of a scrolling thumb's way, and not the brand's big button.
    assert page.index(in_language("Next days")) < page.index(in_language("Phone lost or stolen?")) < form.start()
    assert "btn-brand" not in form.group(1) and "btn-lg" not in form.group(1)


# The calendar link -------------------------------------------------------------------------------------


def feed_path(token: str) -> str:
    return reverse("technician:feed", args=[token])


def calendar_link_of(technician) -> str:
    """The link the office issued, subscribed to by the phone's calendar app."""
    return feed_path(feed_issue(technician=technician, actor=OfficeUserFactory()).token)


def test_the_lost_phones_calendar_link_stops_with_its_sessions(jan):
    link = calendar_link_of(jan)
    lost_phone, new_phone = signed_in("jan"), signed_in("jan")
    calendar_app = Client()
    assert calendar_app.get(link).status_code == 200

    page = new_phone.post(SIGN_OUT_OTHERS, follow=True).content.decode()

    # As any revoked link: a bare 404 that says nothing about why.
    response = calendar_app.get(link)
    assert response.status_code == 404 and response.content == b""
    assert not is_signed_in(lost_phone) and is_signed_in(new_phone)
    assert in_language(SIGNED_OUT_AND_LINK_STOPPED) in page
    assert in_language(SIGNED_OUT) not in page
    feed = CalendarFeed.objects.get()
    assert feed.revoked_by == jan.user and feed.revoked_at is not None


@pytest.mark.parametrize(
    ("language", "said"), [("de", "Kalender-Link ist gesperrt"), ("nl", "agendalink is ingetrokken")]
)
def test_the_stopped_link_is_said_in_the_technicians_language(jan, language, said):
    calendar_link_of(jan)
    new_phone = signed_in("jan")
    new_phone.cookies[django_settings.LANGUAGE_COOKIE_NAME] = language

    page = new_phone.post(SIGN_OUT_OTHERS, follow=True).content.decode()

    assert said in page


def test_my_day_says_the_link_stops_too_only_while_there_is_one(jan):
    phone = signed_in("jan")
    without_link = phone.get(DAY).content.decode()
    calendar_link_of(jan)

    with_link = phone.get(DAY).content.decode()

    assert in_language(LINK_STOPS_TOO) not in without_link
    assert in_language(LINK_STOPS_TOO) != LINK_STOPS_TOO, "the office's language has this text translated"
    section = with_link[with_link.index(in_language("Phone lost or stolen?")) :]
    assert in_language(LINK_STOPS_TOO) in section


def test_without_a_calendar_link_nothing_is_said_about_calendars(jan):
    revoked = feed_issue(technician=jan, actor=OfficeUserFactory())
    feed_revoke(feed=revoked.feed, actor=revoked.feed.created_by)
    new_phone = signed_in("jan")

    response = new_phone.post(SIGN_OUT_OTHERS, follow=True)

    [message] = [str(message) for message in response.context["messages"]]
    assert message == in_language(SIGNED_OUT)
    assert not any(word.lower() in message.lower() for word in CALENDAR_WORDS)
    assert in_language(LINK_STOPS_TOO) not in response.content.decode()
    # The link the office revoked stays as the office revoked it.
    assert CalendarFeed.objects.get().revoked_by == revoked.feed.created_by


def test_another_technicians_calendar_link_keeps_working(jan):
    mia = TechnicianFactory(user__username="mia", user__password=PASSWORD)
    mias_link = calendar_link_of(mia)
    calendar_link_of(jan)

    signed_in("jan").post(SIGN_OUT_OTHERS)

    assert Client().get(mias_link).status_code == 200
    assert CalendarFeed.objects.active().get().technician == mia


def test_a_get_stops_no_calendar_link(jan):
    link = calendar_link_of(jan)
    new_phone = signed_in("jan")

    assert new_phone.get(SIGN_OUT_OTHERS).status_code == 405

    assert Client().get(link).status_code == 200
    assert CalendarFeed.objects.active().count() == 1


def test_a_post_without_the_csrf_token_stops_no_calendar_link(jan):
    link = calendar_link_of(jan)
    new_phone = Client(enforce_csrf_checks=True)
    new_phone.force_login(jan.user)

    assert new_phone.post(SIGN_OUT_OTHERS).status_code == 403

    assert Client().get(link).status_code == 200


def test_the_office_sees_who_stopped_the_link_and_when(jan, client):
    calendar_link_of(jan)
    signed_in("jan").post(SIGN_OUT_OTHERS)
    client.force_login(OfficeUserFactory())

    listing = client.get(reverse("admin:technicians_calendarfeed_changelist"), headers={"accept-language": "en"})

    row = re.search(r"<tr[^>]*>(?:(?!</tr>).)*Jan Verhaag.*?</tr>", listing.content.decode(), re.S).group(0)
    assert "revoked " in row and "· jan<" in row


# The service -------------------------------------------------------------------------------------------


def a_session_of(client: Client):
    return SessionStore(session_key=client.session.session_key)


def test_signing_out_others_stops_the_link_and_says_so(jan):
    calendar_link_of(jan)
    phone = signed_in("jan")

    stopped = devices_sign_out(user=jan.user, actor=jan.user, keep_session=a_session_of(phone))

    assert stopped is True
    assert current_generation(jan.user.pk) == 1
    assert CalendarFeed.objects.get().revoked_by == jan.user


def test_signing_out_without_a_link_stops_nothing_and_says_so(jan):
    phone = signed_in("jan")

    stopped = devices_sign_out(user=jan.user, actor=jan.user, keep_session=a_session_of(phone))

    assert stopped is False and current_generation(jan.user.pk) == 1


def test_signing_out_everywhere_stops_the_link_too(jan):
    office = OfficeUserFactory()
    link = calendar_link_of(jan)
    phone = signed_in("jan")

    stopped = devices_sign_out(user=jan.user, actor=office)

    assert stopped is True
    assert not is_signed_in(phone)
    assert Client().get(link).status_code == 404
    assert CalendarFeed.objects.get().revoked_by == office


def test_a_user_who_is_no_technician_is_signed_out_and_no_link_is_touched(jan):
    clerk = OfficeUserFactory()
    calendar_link_of(jan)

    stopped = devices_sign_out(user=clerk, actor=clerk)

    assert stopped is False and current_generation(clerk.pk) == 1
    assert CalendarFeed.objects.active().get().technician == jan


def test_sessions_and_link_change_together_or_not_at_all(jan, monkeypatch):
    calendar_link_of(jan)
    phone = signed_in("jan")

    def failing_revoke(**kwargs):
        raise RuntimeError("database gone")

    monkeypatch.setattr("technicians.services.feed_revoke", failing_revoke)
    with pytest.raises(RuntimeError):
        devices_sign_out(user=jan.user, actor=jan.user, keep_session=a_session_of(phone))

    assert current_generation(jan.user.pk) == 0
    assert CalendarFeed.objects.active().count() == 1

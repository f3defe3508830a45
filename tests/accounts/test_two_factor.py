"""Office staff sign in with a code from an authenticator app where two factors apply; technicians never."""

import importlib
import re
from base64 import b32decode
from datetime import timedelta

import pytest
import time_machine
from axes.models import AccessAttempt
from django.apps import apps
from django.contrib.admin.models import LogEntry
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.services import recovery_codes_left, recovery_codes_regenerate
from notifications.models import MessageStatus
from tests.accounts.signin import totp_code, verify_session
from tests.factories import OfficeUserFactory, OutboxMessageFactory, TechnicianFactory, TOTPDeviceFactory

pytestmark = pytest.mark.django_db

OFFICE_LOGIN = reverse("admin:login")
PASSWORD = "desk-2026-secret"


def password_step(client, username, next_url=""):
    data = {"username": username, "password": PASSWORD}
    if next_url:
        data["next"] = next_url
    return client.post(OFFICE_LOGIN, data)


def key_on(page) -> str:
    """The key as the set-up page writes it out, for typing into an app."""
    return re.search(r'id="totp-key"[^>]*>([A-Z2-7 ]+)<', page.content.decode()).group(1)


def key_bytes(key: str) -> bytes:
    return b32decode(key.replace(" ", ""))


def app_code(key: str) -> str:
    """The code an app shows now for a key typed in from the set-up page."""
    return f"{TOTP(key_bytes(key)).token():06d}"


@pytest.fixture
def boss():
    return OfficeUserFactory(username="boss", password=PASSWORD)


@pytest.fixture
def clerk():
    return OfficeUserFactory(username="clerk", password=PASSWORD, is_superuser=False)


def test_a_superuser_without_an_app_goes_from_the_password_to_the_set_up(client, boss):
    response = password_step(client, "boss", reverse("dispatch:day"))

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('accounts:setup')}?next=%2Fboard%2F"
    assert client.get(reverse("dispatch:day"))["Location"].startswith(reverse("accounts:setup"))


def test_setting_up_shows_a_qr_code_and_the_key_and_a_right_code_confirms_it(client, boss):
    password_step(client, "boss", reverse("dispatch:day"))

    page = client.get(reverse("accounts:setup"), {"next": reverse("dispatch:day")}, HTTP_ACCEPT_LANGUAGE="en")
    html = page.content.decode()
    key = key_on(page)
    assert "<svg" in html and "QR code for the authenticator app" in html
    assert re.fullmatch(r"([A-Z2-7]{4} )+[A-Z2-7]{1,4}", key)
    assert client.get(reverse("accounts:setup")).content.decode().count(key) == 1  # a reload: the same key

    response = client.post(reverse("accounts:setup"), {"code": app_code(key), "next": reverse("dispatch:day")})
    assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:recovery_codes"))

    codes_page = client.get(response["Location"], HTTP_ACCEPT_LANGUAGE="en")
    codes = re.findall(r"<li>([a-z2-7]{8})</li>", codes_page.content.decode())
    assert len(codes) == 10 and len(set(codes)) == 10
    stored = set(StaticToken.objects.filter(device__user=boss).values_list("token", flat=True))
    assert len(stored) == 10 and not stored & set(codes)  # a copy of the database holds no code
    assert 'href="/board/"' in codes_page.content.decode()
    # Shown once.
    assert client.get(reverse("accounts:recovery_codes")).status_code == 302
    device = TOTPDevice.objects.get(user=boss)
    assert device.confirmed and device.bin_key == key_bytes(key)
    assert client.get(reverse("dispatch:day")).status_code == 200


def test_a_wrong_code_at_set_up_confirms_nothing(client, boss):
    password_step(client, "boss")
    client.get(reverse("accounts:setup"))

    response = client.post(reverse("accounts:setup"), {"code": "000000"}, HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 400
    assert "That code is not right" in response.content.decode()
    assert not TOTPDevice.objects.filter(user=boss, confirmed=True).exists()
    assert not StaticDevice.objects.filter(user=boss).exists()
    assert client.get(reverse("admin:index")).status_code == 302


def test_with_an_app_the_password_leads_to_the_code_page_and_the_code_in(client, boss):
    device = TOTPDeviceFactory(user=boss)

    response = password_step(client, "boss", reverse("desk:page"))
    assert response["Location"] == f"{reverse('accounts:verify')}?next=%2Fdesk%2F"
    page = client.get(response["Location"], HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200 and "six-digit code" in page.content.decode()
    session_before = client.session.session_key

    response = client.post(reverse("accounts:verify"), {"code": totp_code(device), "next": reverse("desk:page")})

    assert response.status_code == 302 and response["Location"] == reverse("desk:page")
    assert client.get(reverse("desk:page")).status_code == 200
    assert client.session.session_key != session_before


def test_a_wrong_code_is_refused_and_the_next_one_must_wait(client, boss):
    device = TOTPDeviceFactory(user=boss)
    password_step(client, "boss")

    # The wait is one second: on a busy machine it could pass between the two posts.
    with time_machine.travel(timezone.now(), tick=False):
        wrong = client.post(reverse("accounts:verify"), {"code": "123 456"}, HTTP_ACCEPT_LANGUAGE="en")
        right_too_soon = client.post(
            reverse("accounts:verify"), {"code": totp_code(device)}, HTTP_ACCEPT_LANGUAGE="en"
        )

    assert wrong.status_code == 400 and "not right" in wrong.content.decode()
    assert right_too_soon.status_code == 400 and "Too many wrong codes" in right_too_soon.content.decode()
    assert client.get(reverse("admin:index")).status_code == 302


def test_a_recovery_code_signs_in_once(client, boss):
    TOTPDeviceFactory(user=boss)
    code = recovery_codes_regenerate(user=boss)[0]

    password_step(client, "boss")
    typed = f" {code[:4].upper()} {code[4:].upper()} "
    response = client.post(reverse("accounts:verify"), {"code": typed}, follow=True, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200 and "9 codes are left" in response.content.decode()

    other = Client()
    password_step(other, "boss")
    again = other.post(reverse("accounts:verify"), {"code": code})
    assert again.status_code == 400
    assert recovery_codes_left(user=boss) == 9


def test_a_recovery_code_still_signs_in_after_the_key_rotates(client, boss, settings):
    TOTPDeviceFactory(user=boss)
    code = recovery_codes_regenerate(user=boss)[0]
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = "a-new-key-after-rotation-" + "x" * 40, [settings.SECRET_KEY]

    password_step(client, "boss")
    response = client.post(reverse("accounts:verify"), {"code": code})

    assert response.status_code == 302 and client.get(reverse("admin:index")).status_code == 200
    assert recovery_codes_left(user=boss) == 9


def test_a_wrong_recovery_code_counts_once_with_the_device_and_the_lockout(client, boss, settings):
    settings.SECRET_KEY_FALLBACKS = ["an-older-key-" + "x" * 40, "an-even-older-key-" + "x" * 40]
    TOTPDeviceFactory(user=boss)
    codes = recovery_codes_regenerate(user=boss)
    wrong = next(code for code in ("abcd2345", "efgh6723") if code not in codes)
    password_step(client, "boss")

    response = client.post(reverse("accounts:verify"), {"code": wrong}, HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 400 and "not right" in response.content.decode()
    assert StaticDevice.objects.get(user=boss).throttling_failure_count == 1
    assert AccessAttempt.objects.get(username="boss").failures_since_start == 1
    assert recovery_codes_left(user=boss) == 10


def test_recovery_codes_stored_in_plain_text_before_still_sign_in_once(client, boss):
    TOTPDeviceFactory(user=boss)
    recovery_codes_regenerate(user=boss)
    digests = set(StaticToken.objects.filter(device__user=boss).values_list("token", flat=True))
    StaticDevice.objects.get(user=boss).token_set.create(token="efgh6723")  # as older versions stored them
    migration = importlib.import_module("accounts.migrations.0003_recovery_codes_digests")

    migration.recovery_codes_digest(apps, None)
    migration.recovery_codes_digest(apps, None)  # run again (after a reversal): digests are not digested again

    tokens = set(StaticToken.objects.filter(device__user=boss).values_list("token", flat=True))
    assert len(tokens) == 11 and digests < tokens and "efgh6723" not in tokens
    password_step(client, "boss")
    assert client.post(reverse("accounts:verify"), {"code": "efgh6723"}).status_code == 302
    client.post(reverse("accounts:sign_out"))
    password_step(client, "boss")
    assert client.post(reverse("accounts:verify"), {"code": "efgh6723"}).status_code == 400
    assert recovery_codes_left(user=boss) == 10


@pytest.mark.password_only
@pytest.mark.parametrize(
    "url",
    [
        reverse("admin:index"),
        reverse("admin:customers_customer_changelist"),
        reverse("dispatch:day"),
        reverse("desk:page"),
        reverse("accounts:security"),
    ],
)
def test_a_password_alone_reaches_no_office_page_of_a_superuser(client, boss, url):
    TOTPDeviceFactory(user=boss)
    client.force_login(boss)

    response = client.get(url)

    assert response.status_code == 302
    target = response["Location"]
    if target.startswith(OFFICE_LOGIN):
        target = client.get(target)["Location"]
    assert target.startswith(reverse("accounts:verify"))


@pytest.mark.password_only
def test_a_password_alone_reaches_no_office_day_sheet(client, boss):
    technician = TechnicianFactory()
    client.force_login(boss)

    response = client.get(reverse("technician:office_day_sheet", args=[technician.pk, "2026-12-02"]))

    assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:setup"))


@pytest.mark.password_only
def test_a_password_alone_cannot_replace_the_app(client, boss):
    device = TOTPDeviceFactory(user=boss)
    client.force_login(boss)

    response = client.get(reverse("accounts:setup"))
    client.post(reverse("accounts:setup"), {"code": "123456"})

    assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:verify"))
    assert list(TOTPDevice.objects.filter(user=boss)) == [device]


def test_other_office_staff_sign_in_with_the_password_alone_by_default(client, clerk):
    response = password_step(client, "clerk", reverse("dispatch:day"))

    assert response["Location"] == reverse("dispatch:day")
    assert client.get(reverse("dispatch:day")).status_code == 200


def test_office_require_2fa_asks_every_office_user(client, clerk, settings):
    settings.OFFICE_REQUIRE_2FA = True

    response = password_step(client, "clerk", reverse("dispatch:day"))

    assert response["Location"].startswith(reverse("accounts:setup"))
    assert client.get(reverse("dispatch:day")).status_code == 302


def test_who_set_up_an_app_of_their_own_accord_is_asked_for_it(client, clerk):
    TOTPDeviceFactory(user=clerk)

    response = password_step(client, "clerk")

    assert response["Location"].startswith(reverse("accounts:verify"))


def test_technicians_are_never_asked_for_a_code(client, settings):
    settings.OFFICE_REQUIRE_2FA = True
    TechnicianFactory(user__username="jan", user__password="van-keys-2026", user__is_superuser=True)

    response = client.post(reverse("technician:login"), {"username": "jan", "password": "van-keys-2026"})

    assert response["Location"] == reverse("technician:day")
    assert client.get(reverse("technician:day")).status_code == 200


def test_half_signed_in_one_can_cancel_and_sign_out(client, boss):
    password_step(client, "boss")

    response = client.post(reverse("accounts:sign_out"))

    assert response["Location"] == OFFICE_LOGIN
    assert "_auth_user_id" not in client.session


def test_a_signed_in_office_user_makes_new_recovery_codes(admin_client_office, office_user):
    old = recovery_codes_regenerate(user=office_user)
    old_tokens = set(StaticToken.objects.filter(device__user=office_user).values_list("token", flat=True))

    response = admin_client_office.post(reverse("accounts:recovery_codes_new"), follow=True)

    codes = re.findall(r"<li>([a-z2-7]{8})</li>", response.content.decode())
    tokens = set(StaticToken.objects.filter(device__user=office_user).values_list("token", flat=True))
    assert len(codes) == 10 and not set(codes) & set(old)
    assert len(tokens) == 10 and not tokens & (old_tokens | set(codes))


def test_an_office_admin_resets_a_colleagues_lost_phone(admin_client_office, boss):
    TOTPDeviceFactory(user=boss)
    StaticDevice.objects.create(user=boss, name="recovery", confirmed=True)
    bosses_browser = Client()
    bosses_browser.force_login(boss)
    assert bosses_browser.get(reverse("dispatch:day")).status_code == 200

    admin_client_office.post(
        reverse("admin:auth_user_changelist"),
        {"action": "reset_two_factor", "_selected_action": [boss.pk]},
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert not TOTPDevice.objects.filter(user=boss).exists() and not StaticDevice.objects.filter(user=boss).exists()
    assert bosses_browser.get(reverse("dispatch:day")).status_code == 302
    assert LogEntry.objects.filter(object_id=str(boss.pk), change_message="Two-factor sign-in reset.").exists()
    # At the next sign-in: a new app.
    assert password_step(Client(), "boss")["Location"].startswith(reverse("accounts:setup"))


def test_the_admin_does_not_show_colleagues_secret_keys(admin_client_office):
    assert admin_client_office.get("/admin/otp_totp/totpdevice/").status_code == 404
    assert admin_client_office.get("/admin/otp_static/staticdevice/").status_code == 404


@pytest.mark.parametrize("hostile", ["https://evil.example/", "//evil.example/admin/", "javascript:alert(1)"])
def test_a_hostile_next_after_the_code_lands_on_the_admin_index(client, boss, hostile):
    device = TOTPDeviceFactory(user=boss)
    password_step(client, "boss", hostile)

    response = client.post(reverse("accounts:verify"), {"code": totp_code(device), "next": hostile})

    assert response["Location"] == reverse("admin:index")


def test_the_office_finds_its_sign_in_security_page_in_the_admin(admin_client_office):
    page = admin_client_office.get(reverse("admin:index"), HTTP_ACCEPT_LANGUAGE="de").content.decode()

    assert f'<a href="{reverse("accounts:security")}">Anmeldesicherheit</a>' in page


def test_a_signed_in_colleague_sets_up_a_new_phone_from_the_security_page(admin_client_office, office_user):
    old = TOTPDevice.objects.get(user=office_user)  # the app the signed-in session was verified with

    page = admin_client_office.get(reverse("accounts:setup"), HTTP_ACCEPT_LANGUAGE="en")
    response = admin_client_office.post(reverse("accounts:setup"), {"code": app_code(key_on(page))})

    assert "Set up a new phone" in page.content.decode() and "Cancel and sign out" not in page.content.decode()
    assert response.status_code == 302
    new = TOTPDevice.objects.get(user=office_user)
    assert new.confirmed and new.bin_key == key_bytes(key_on(page))
    assert not TOTPDevice.objects.filter(pk=old.pk).exists()
    assert admin_client_office.get(reverse("admin:index")).status_code == 200


def test_opening_the_set_up_page_stores_no_device(client, boss):
    password_step(client, "boss")

    page = client.get(reverse("accounts:setup"))

    assert page.status_code == 200 and key_on(page)
    assert not TOTPDevice.objects.filter(user=boss).exists()


def test_two_sessions_are_shown_different_keys(boss):
    first, second = Client(), Client()
    password_step(first, "boss")
    password_step(second, "boss")

    assert key_on(first.get(reverse("accounts:setup"))) != key_on(second.get(reverse("accounts:setup")))


def test_a_key_seen_with_the_password_alone_is_not_the_one_the_user_then_confirms(boss):
    # Someone with the password opens the set-up page and leaves; the user then sets up their app as usual.
    attacker = Client(REMOTE_ADDR="203.0.113.9")
    password_step(attacker, "boss")
    seen = key_on(attacker.get(reverse("accounts:setup")))
    attacker.post(reverse("accounts:sign_out"))
    user = Client(REMOTE_ADDR="198.51.100.7")
    password_step(user, "boss")

    key = key_on(user.get(reverse("accounts:setup")))
    response = user.post(reverse("accounts:setup"), {"code": app_code(key)})

    assert key != seen
    assert response.status_code == 302
    assert [device.bin_key for device in TOTPDevice.objects.filter(user=boss)] == [key_bytes(key)]


def test_a_code_for_a_key_shown_to_another_session_confirms_nothing(boss):
    shown, other = Client(), Client()
    password_step(shown, "boss")
    password_step(other, "boss")
    key = key_on(shown.get(reverse("accounts:setup")))
    other.get(reverse("accounts:setup"))

    response = other.post(reverse("accounts:setup"), {"code": app_code(key)}, HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 400 and "That code is not right" in response.content.decode()
    assert not TOTPDevice.objects.filter(user=boss).exists()
    assert other.get(reverse("admin:index")).status_code == 302


def test_a_confirm_without_a_key_shown_in_this_session_asks_to_start_again(boss):
    client = Client()
    password_step(client, "boss")

    response = client.post(reverse("accounts:setup"), {"code": "123456"}, HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 400 and "This set-up has expired" in response.content.decode()
    assert key_on(response)  # a key to start again with
    assert not TOTPDevice.objects.filter(user=boss).exists()


@pytest.mark.parametrize("code", ["totp", "recovery"])
def test_the_wait_after_many_wrong_codes_is_capped_by_the_setting(client, boss, settings, code):
    settings.TWO_FACTOR_MAX_WAIT = timedelta(minutes=15)
    start = timezone.now()
    device = TOTPDeviceFactory(user=boss, throttling_failure_count=40, throttling_failure_timestamp=start)
    recovery_code = recovery_codes_regenerate(user=boss)[0]
    StaticDevice.objects.filter(user=boss).update(throttling_failure_count=40, throttling_failure_timestamp=start)
    password_step(client, "boss")

    with time_machine.travel(start + timedelta(minutes=1), tick=False):
        waiting = client.post(reverse("accounts:verify"), {"code": "000000"}, HTTP_ACCEPT_LANGUAGE="en")
        seconds = int(re.search(r"wait (\d+) second", waiting.content.decode()).group(1))
    with time_machine.travel(start + settings.TWO_FACTOR_MAX_WAIT, tick=False):
        right = totp_code(device) if code == "totp" else recovery_code
        response = client.post(reverse("accounts:verify"), {"code": right})

    assert 0 < seconds <= 14 * 60
    assert response.status_code == 302 and client.get(reverse("admin:index")).status_code == 200


def test_the_wait_still_doubles_with_each_wrong_code(client, boss):
    start = timezone.now()
    device = TOTPDeviceFactory(user=boss, throttling_failure_count=3, throttling_failure_timestamp=start)
    password_step(client, "boss")

    # Half a second into the wait of 4 s, however long the steps above took.
    with time_machine.travel(start + timedelta(milliseconds=500), tick=False):
        response = client.post(reverse("accounts:verify"), {"code": totp_code(device)}, HTTP_ACCEPT_LANGUAGE="en")

    assert "wait 4 seconds" in response.content.decode()


@pytest.mark.password_only
def test_a_password_alone_does_not_learn_that_mail_is_failing(client, boss):
    TOTPDeviceFactory(user=boss)
    OutboxMessageFactory(status=MessageStatus.FAILED)
    client.force_login(boss)

    code_page = client.get(reverse("accounts:verify"), headers={"accept-language": "en"}).content.decode()
    verify_session(client, boss)
    security_page = client.get(reverse("accounts:security"), headers={"accept-language": "en"}).content.decode()

    assert "outbox-alert" not in code_page and "could not be sent" not in code_page
    assert "outbox-alert" in security_page


@pytest.mark.parametrize(
    ("language", "said"),
    [
        ("en", "No recovery codes are left."),
        ("de", "Es sind keine Wiederherstellungscodes mehr übrig."),
        ("nl", "Er zijn geen herstelcodes meer over."),
    ],
)
def test_the_security_page_says_no_codes_are_left_rather_than_counting_zero(client, boss, language, said):
    TOTPDeviceFactory(user=boss)
    client.force_login(boss)

    page = client.get(reverse("accounts:security"), HTTP_ACCEPT_LANGUAGE=language).content.decode()

    assert said in page and ">0 " not in page

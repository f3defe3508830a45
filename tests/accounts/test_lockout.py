"""Wrong passwords, and wrong codes after the password, pause sign-in for one user name at one address
(django-axes), on both sign-in pages."""

from datetime import timedelta

import pytest
import time_machine
from axes.models import AccessAttempt
from django.contrib.admin.models import LogEntry
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from tests.accounts.signin import totp_code
from tests.factories import OfficeUserFactory, TechnicianFactory, TOTPDeviceFactory

pytestmark = pytest.mark.django_db

OFFICE_LOGIN = reverse("admin:login")
TECHNICIAN_LOGIN = reverse("technician:login")


def sign_in(client, url, username, password, **extra):
    return client.post(url, {"username": username, "password": password}, **extra)


def fail(client, url, username, times, **extra):
    return [sign_in(client, url, username, "wrong-password", **extra).status_code for _i in range(times)]


@pytest.fixture
def sandra():
    # Not a superuser: this file is about passwords, not the second step.
    return OfficeUserFactory(username="sandra", password="desk-2026-secret", is_superuser=False)


def test_25_wrong_passwords_lock_out_and_the_right_one_is_refused_while_locked(client, sandra, settings):
    statuses = fail(client, OFFICE_LOGIN, "sandra", 25)

    assert statuses[: settings.AXES_FAILURE_LIMIT - 1] == [200] * (settings.AXES_FAILURE_LIMIT - 1)
    assert set(statuses[settings.AXES_FAILURE_LIMIT :]) == {429}
    response = sign_in(client, OFFICE_LOGIN, "sandra", "desk-2026-secret")
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    assert client.get(reverse("admin:index")).status_code == 302


def test_the_limit_and_the_wait_come_from_the_settings(client, sandra, settings):
    settings.AXES_FAILURE_LIMIT = 2
    settings.AXES_COOLOFF_TIME = timedelta(minutes=3)

    assert fail(client, OFFICE_LOGIN, "sandra", 2) == [200, 429]
    assert "3 minutes" in sign_in(client, OFFICE_LOGIN, "sandra", "x", HTTP_ACCEPT_LANGUAGE="en").content.decode()


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("de", ["Anmeldung pausiert", "bis 10:45", "Administratorrechten"]),
        ("nl", ["Aanmelden gepauzeerd", "tot 10:45", "beheerdersrechten"]),
        ("en", ["Sign-in paused", "until 10:45", "administrator rights"]),
    ],
)
def test_the_lockout_page_says_until_when_and_whom_to_ask_in_the_users_language(client, sandra, language, expected):
    with time_machine.travel(timezone.make_aware(timezone.datetime(2026, 12, 2, 10, 30)), tick=False):
        fail(client, OFFICE_LOGIN, "sandra", 5)
        response = sign_in(client, OFFICE_LOGIN, "sandra", "wrong", HTTP_ACCEPT_LANGUAGE=language)

    assert response.status_code == 429
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    for text in expected:
        assert text in page
    assert 'href="/admin/login/"' in page


def test_a_colleague_at_the_same_address_still_signs_in(client, sandra):
    OfficeUserFactory(username="petra", password="petra-2026-secret", is_superuser=False)
    fail(client, OFFICE_LOGIN, "sandra", 10)

    response = sign_in(Client(), OFFICE_LOGIN, "petra", "petra-2026-secret")

    assert response.status_code == 302 and response["Location"] == reverse("admin:index")


def test_the_same_user_from_another_address_still_signs_in(client, sandra):
    fail(client, OFFICE_LOGIN, "sandra", 10)

    response = sign_in(Client(REMOTE_ADDR="203.0.113.9"), OFFICE_LOGIN, "sandra", "desk-2026-secret")

    assert response.status_code == 302


def test_the_pause_ends_after_the_wait(client, sandra, settings):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        fail(client, OFFICE_LOGIN, "sandra", 5)
    with time_machine.travel(start + settings.AXES_COOLOFF_TIME + timedelta(seconds=1), tick=False):
        response = sign_in(client, OFFICE_LOGIN, "sandra", "desk-2026-secret")

    assert response.status_code == 302


def test_a_forwarded_address_counts_only_behind_our_proxy(client, sandra):
    # Without BEHIND_TLS_PROXY anyone could send a fresh X-Forwarded-For with every guess.
    for n in range(5):
        sign_in(client, OFFICE_LOGIN, "sandra", "wrong", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}")
    assert sign_in(client, OFFICE_LOGIN, "sandra", "wrong", HTTP_X_FORWARDED_FOR="198.51.100.99").status_code == 429

    with override_settings(SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https")):
        response = sign_in(client, OFFICE_LOGIN, "sandra", "desk-2026-secret", HTTP_X_FORWARDED_FOR="198.51.100.7")
    assert response.status_code == 302
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"127.0.0.1"}


def test_an_office_admin_lifts_the_lockout(client, admin_client_office, sandra):
    fail(client, OFFICE_LOGIN, "sandra", 5)

    response = admin_client_office.post(
        reverse("admin:auth_user_changelist"),
        {"action": "lift_lockout", "_selected_action": [sandra.pk]},
        follow=True,
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert response.status_code == 200
    assert not AccessAttempt.objects.filter(username="sandra").exists()
    assert sign_in(client, OFFICE_LOGIN, "sandra", "desk-2026-secret").status_code == 302
    assert LogEntry.objects.filter(object_id=str(sandra.pk), change_message="Sign-in lockout lifted.").exists()


def test_the_failed_sign_ins_are_in_the_office_admin_and_deleting_one_lifts_it(client, admin_client_office, sandra):
    fail(client, OFFICE_LOGIN, "sandra", 5)
    attempt = AccessAttempt.objects.get(username="sandra")

    page = admin_client_office.get(reverse("admin:axes_accessattempt_changelist"))
    admin_client_office.post(reverse("admin:axes_accessattempt_delete", args=[attempt.pk]), {"post": "yes"})

    assert page.status_code == 200 and "sandra" in page.content.decode()
    assert sign_in(client, OFFICE_LOGIN, "sandra", "desk-2026-secret").status_code == 302


def test_technician_sign_in_locks_out_the_same_with_their_own_page(client, settings):
    TechnicianFactory(user__username="jan", user__password="van-keys-2026")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"  # technicians' pages speak the office's language else

    statuses = fail(client, TECHNICIAN_LOGIN, "jan", 25)
    response = sign_in(client, TECHNICIAN_LOGIN, "jan", "van-keys-2026", HTTP_ACCEPT_LANGUAGE="en")

    assert set(statuses[settings.AXES_FAILURE_LIMIT :]) == {429}
    assert response.status_code == 429
    page = response.content.decode()
    assert "technician/technician.css" in page and "call the office" in page
    assert f'href="{TECHNICIAN_LOGIN}"' in page
    assert client.get(reverse("technician:day")).status_code == 302


def test_a_technician_lockout_is_lifted_the_same_way(client, admin_client_office):
    jan = TechnicianFactory(user__username="jan", user__password="van-keys-2026").user
    fail(client, TECHNICIAN_LOGIN, "jan", 5)

    admin_client_office.post(
        reverse("admin:auth_user_changelist"), {"action": "lift_lockout", "_selected_action": [jan.pk]}
    )

    assert sign_in(client, TECHNICIAN_LOGIN, "jan", "van-keys-2026").status_code == 302


@pytest.fixture
def boss():
    return OfficeUserFactory(username="boss", password="desk-2026-secret")


def wrong_codes(client, times, traveller, **extra):
    """Wrong codes on the code page, each after the app's own wait (django-otp) and within the lockout's."""
    statuses = []
    for _i in range(times):
        traveller.shift(timedelta(minutes=1))
        statuses.append(client.post(reverse("accounts:verify"), {"code": "000000"}, **extra).status_code)
    return statuses


def test_wrong_codes_count_as_failed_sign_ins_and_lock_out_the_user_at_that_address(client, boss, settings):
    TOTPDeviceFactory(user=boss)
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        sign_in(client, OFFICE_LOGIN, "boss", "desk-2026-secret")
        statuses = wrong_codes(client, settings.AXES_FAILURE_LIMIT, traveller, HTTP_ACCEPT_LANGUAGE="en")
        page = client.get(reverse("admin:index"))
        again = sign_in(client, OFFICE_LOGIN, "boss", "desk-2026-secret", HTTP_ACCEPT_LANGUAGE="en")
        elsewhere = sign_in(Client(REMOTE_ADDR="203.0.113.9"), OFFICE_LOGIN, "boss", "desk-2026-secret")

    assert statuses == [400] * (settings.AXES_FAILURE_LIMIT - 1) + [429]
    assert "_auth_user_id" not in client.session  # the half sign-in ends with the lockout
    assert page.status_code == 302
    assert again.status_code == 429 and "Sign-in paused" in again.content.decode()
    assert elsewhere.status_code == 302 and elsewhere["Location"].startswith(reverse("accounts:verify"))
    attempt = AccessAttempt.objects.get(username="boss", ip_address="127.0.0.1")
    assert "000000" not in attempt.post_data


def test_signing_in_again_with_the_password_does_not_forget_the_wrong_codes(client, boss, settings):
    settings.AXES_FAILURE_LIMIT = 3
    TOTPDeviceFactory(user=boss)
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        sign_in(client, OFFICE_LOGIN, "boss", "desk-2026-secret")
        first = wrong_codes(client, 2, traveller)
        client.post(reverse("accounts:sign_out"))
        sign_in(client, OFFICE_LOGIN, "boss", "desk-2026-secret")
        then = wrong_codes(client, 1, traveller)

    assert first == [400, 400] and then == [429]


def test_a_complete_sign_in_forgets_the_failed_ones(client, boss):
    device = TOTPDeviceFactory(user=boss)
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        fail(client, OFFICE_LOGIN, "boss", 1)
        sign_in(client, OFFICE_LOGIN, "boss", "desk-2026-secret")
        wrong_codes(client, 1, traveller)
        assert AccessAttempt.objects.filter(username="boss").exists()
        traveller.shift(timedelta(minutes=1))
        response = client.post(reverse("accounts:verify"), {"code": totp_code(device)})

    assert response.status_code == 302
    assert not AccessAttempt.objects.filter(username="boss").exists()


def test_a_sign_in_without_a_code_forgets_the_failed_ones(client, sandra):
    fail(client, OFFICE_LOGIN, "sandra", 2)

    assert sign_in(client, OFFICE_LOGIN, "sandra", "desk-2026-secret").status_code == 302
    assert not AccessAttempt.objects.filter(username="sandra").exists()


def test_an_office_admin_lifts_a_lockout_from_wrong_codes(client, admin_client_office, boss, settings):
    device = TOTPDeviceFactory(user=boss)
    user = Client()
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        sign_in(user, OFFICE_LOGIN, "boss", "desk-2026-secret")
        wrong_codes(user, settings.AXES_FAILURE_LIMIT, traveller)
        admin_client_office.post(
            reverse("admin:auth_user_changelist"), {"action": "lift_lockout", "_selected_action": [boss.pk]}
        )
        password = sign_in(user, OFFICE_LOGIN, "boss", "desk-2026-secret")
        traveller.shift(timedelta(minutes=1))
        code = user.post(reverse("accounts:verify"), {"code": totp_code(device)})

    assert password.status_code == 302 and code.status_code == 302
    assert user.get(reverse("admin:index")).status_code == 200


def test_a_wrong_password_is_checked_once(client, sandra, monkeypatch):
    # ModelBackend stays listed after StaffBackend for sessions signed in before it; it must not hash the same
    # wrong password a second time.
    checked = []
    check_password = type(sandra).check_password
    monkeypatch.setattr(
        type(sandra), "check_password", lambda user, raw: checked.append(raw) or check_password(user, raw)
    )

    sign_in(client, OFFICE_LOGIN, "sandra", "wrong-password")
    sign_in(client, OFFICE_LOGIN, "sandra", "desk-2026-secret")

    assert checked == ["wrong-password", "desk-2026-secret"]

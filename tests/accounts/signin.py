"""Signing office staff in from tests: a second factor where one applies, as a person would give it.

`verify_session` marks a test client's session as having passed the code step (what django_otp's `login`
writes after a right code); tests/conftest.py applies it to every `force_login`, so tests about the pages
behind the sign-in need not repeat it. The sign-in itself is tested in tests/accounts with real codes.
"""

import time

from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from customers.selectors import is_office_staff


def app_device(user) -> TOTPDevice:
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    return device or TOTPDevice.objects.create(user=user, name="app", confirmed=True)


def totp_code(device: TOTPDevice) -> str:
    """The code the person's app shows now; the next one if this one was used already (the device refuses a
    code twice, and tests may sign in twice within the app's 30 seconds)."""
    device.refresh_from_db()
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    if totp.t() <= device.last_t:
        totp.time = device.t0 + (device.last_t + 1) * device.step
    return f"{totp.token():0{device.digits}d}"


def verify_session(client, user) -> None:
    if not is_office_staff(user):
        return
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = app_device(user).persistent_id
    session.save()


def office_sign_in(page, *, username: str, password: str) -> None:
    """On the office's sign-in form that `page` shows: user name, password, and the app's code where asked."""
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.get(username=username)
    device = app_device(user) if is_office_staff(user) else None
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    with page.expect_navigation():
        page.click("input[type=submit]")
    if "/account/code/" in page.url and device is not None:
        page.fill("#id_code", totp_code(device))
        with page.expect_navigation():
            page.click("#code-form input[type=submit]")

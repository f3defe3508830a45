"""Staff accounts' state changes: sessions, two-factor devices, lockouts."""

import logging
import time
from base64 import b32encode
from datetime import datetime, timedelta

from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_client_ip_address
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from axes.utils import reset as axes_reset
from django.conf import settings
from django.contrib.auth import SESSION_KEY, get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.auth.signals import user_login_failed
from django.contrib.sessions.backends.base import SessionBase
from django.db import transaction
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django_otp import verify_token as otp_verify_token
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp.util import random_hex

from accounts.models import SessionGeneration
from accounts.sessions import SESSION_GENERATION_KEY
from config.keyed_hashes import keyed_digests

logger = logging.getLogger(__name__)

RECOVERY_CODE_COUNT = 10
APP_DEVICE_NAME = "app"
RECOVERY_DEVICE_NAME = "recovery"


class TwoFactorError(Exception):
    def __init__(self, message: str, *, code: str = "invalid"):
        super().__init__(message)
        self.message = message
        self.code = code


def _generation_raise(*, user: AbstractBaseUser) -> int:
    SessionGeneration.objects.get_or_create(user=user)
    SessionGeneration.objects.filter(user=user).update(generation=F("generation") + 1, raised_at=timezone.now())
    return SessionGeneration.objects.get(user=user).generation


@transaction.atomic
def sessions_end_all(*, user: AbstractBaseUser, actor: AbstractBaseUser | None = None) -> int:
    """Every session of `user` ends on its next request (SessionGenerationMiddleware); returns the new generation."""
    generation = _generation_raise(user=user)
    logger.info("All sessions of user %s ended by user %s", user.pk, getattr(actor, "pk", None))
    return generation


@transaction.atomic
def sessions_end_others(
    *, user: AbstractBaseUser, keep_session: SessionBase, actor: AbstractBaseUser | None = None
) -> int:
    """Every session of `user` but `keep_session` (the one asking) ends on its next request; returns the new
    generation.

    The kept session moves to the new generation under a new key: whoever copied its old cookie (from the lost
    phone's browser, say) holds a key that no longer exists.
    """
    # Kept under `user`'s new generation, someone else's session would be signed out on its next request and
    # every one of `user`'s sessions with it: a caller's mistake, not a state to reach.
    if str(keep_session.get(SESSION_KEY)) != str(user.pk):
        raise ValueError("keep_session must be a session of the user whose sessions end.")
    generation = _generation_raise(user=user)
    keep_session.cycle_key()
    keep_session[SESSION_GENERATION_KEY] = generation
    logger.info("Other sessions of user %s ended by user %s", user.pk, getattr(actor, "pk", None))
    return generation


# The key of the app being set up, kept in the session that was shown it until a code confirms it. Nothing is
# stored before: a key stored with the user would be shown to whoever opens the set-up page next (with the
# password alone, say), and the user would later confirm a key someone else has seen.
SETUP_KEY_SESSION_KEY = "accounts_setup_key"


def two_factor_setup_start(*, user: AbstractBaseUser, session: SessionBase) -> TOTPDevice:
    """The app device the set-up page shows, not saved: a new key for each session, the same on a reload (so
    the QR code stays valid). Only the session changes."""
    pending = session.get(SETUP_KEY_SESSION_KEY) or {}
    if pending.get("user") != user.pk:
        pending = {"user": user.pk, "key": random_hex(20)}
        session[SETUP_KEY_SESSION_KEY] = pending
    return TOTPDevice(user=user, name=APP_DEVICE_NAME, key=pending["key"], confirmed=False)


def two_factor_confirm(*, user: AbstractBaseUser, session: SessionBase, token: str) -> tuple[TOTPDevice, list[str]]:
    """Confirms the app by a code it shows for the key this session was shown; stores it (replacing any older
    app) and returns it with new recovery codes (shown once).

    No throttling here: the code proves only that the app holds a key this session already knows.
    """
    pending = session.get(SETUP_KEY_SESSION_KEY) or {}
    if pending.get("user") != user.pk:
        raise TwoFactorError(_("This set-up has expired. Please start again."), code="stale")
    device = TOTPDevice(user=user, name=APP_DEVICE_NAME, key=pending["key"], confirmed=True)
    token = _digits(token)
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    if not (token.isdigit() and totp.verify(int(token), device.tolerance)):
        raise TwoFactorError(
            _("That code is not right. Check that the phone's clock is correct and type the code the app shows now.")
        )
    # This code is used up: the code page refuses it (and older ones) like any code signed in with.
    device.last_t = totp.t()
    device.drift = totp.drift
    result = _two_factor_activate(user=user, device=device)
    del session[SETUP_KEY_SESSION_KEY]
    return result


@transaction.atomic
def _two_factor_activate(*, user: AbstractBaseUser, device: TOTPDevice) -> tuple[TOTPDevice, list[str]]:
    # Two sessions confirming at once take turns, so that one app is left.
    get_user_model()._default_manager.select_for_update().filter(pk=user.pk).first()
    # One app per person: a new one replaces any older one (and any set-up left pending by older versions).
    TOTPDevice.objects.filter(user=user).delete()
    device.save()
    logger.info("Two-factor app set up for user %s", user.pk)
    return device, recovery_codes_regenerate(user=user)


# A recovery code is stored as a keyed digest, so that a copy of the database gives no second factor: a plain
# hash of a code of 40 bits could be reversed by trying them all. 16 characters of base32 (80 bits) fit
# django-otp's token column. Accounts migration 0003 digested the codes stored before the same way. Codes made
# under a key stop working once it leaves SECRET_KEY_FALLBACKS, so it stays there until people have new ones.
RECOVERY_CODE_SALT = "accounts.recovery-code"


def _recovery_tokens(code: str) -> list[str]:
    """The tokens `code` may be stored as: made under SECRET_KEY, then under each of SECRET_KEY_FALLBACKS (codes
    made before a key rotation)."""
    return [b32encode(digest).decode().lower()[:16] for digest in keyed_digests(RECOVERY_CODE_SALT, code)]


def _recovery_token(*, device: StaticDevice, code: str) -> str:
    """The stored token of `code`, else its token under SECRET_KEY, which django-otp then refuses and counts as
    one wrong code, like any other."""
    tokens = _recovery_tokens(code)
    return device.token_set.filter(token__in=tokens).values_list("token", flat=True).first() or tokens[0]


@transaction.atomic
def recovery_codes_regenerate(*, user: AbstractBaseUser) -> list[str]:
    """New single-use recovery codes, to be shown once: only their digests are stored. The old ones stop
    working."""
    device, _created = StaticDevice.objects.get_or_create(
        user=user, name=RECOVERY_DEVICE_NAME, defaults={"confirmed": True}
    )
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _i in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=_recovery_tokens(code)[0]) for code in codes])
    return codes


@transaction.atomic
def two_factor_reset(*, user: AbstractBaseUser, actor: AbstractBaseUser | None = None) -> int:
    """Removes the user's app and recovery codes (a lost phone) and ends their sessions; where two factors are
    required they set up a new app at the next sign-in. Returns how many devices were removed."""
    removed = TOTPDevice.objects.filter(user=user).delete()[1].get("otp_totp.TOTPDevice", 0)
    removed += StaticDevice.objects.filter(user=user).delete()[1].get("otp_static.StaticDevice", 0)
    sessions_end_all(user=user, actor=actor)
    logger.info("Two-factor devices of user %s reset by user %s", user.pk, getattr(actor, "pk", None))
    return removed


@transaction.atomic
def sign_in_unlock(*, user: AbstractBaseUser, actor: AbstractBaseUser | None = None) -> int:
    """Forgets the user's failed sign-ins (from every address); returns how many records were removed."""
    removed = axes_reset(username=user.get_username())
    logger.info("Sign-in lockout of user %s lifted by user %s", user.pk, getattr(actor, "pk", None))
    return removed


@transaction.atomic
def sign_in_records_expire(*, now: datetime | None = None) -> int:
    """Delete django-axes' records of sign-ins and failed ones older than SIGN_IN_RECORD_RETENTION_DAYS (each
    keeps the address and browser a member of staff came from); returns how many went. A lockout lasts
    minutes (AXES_COOLOFF_TIME), so none that still counts is touched."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.SIGN_IN_RECORD_RETENTION_DAYS)
    return sum(
        model.objects.filter(attempt_time__lt=cutoff).delete()[0]
        for model in (AccessLog, AccessAttempt, AccessFailureLog)
    )


def _digits(token: str) -> str:
    # Apps show "123 456"; people paste it with spaces.
    return "".join(str(token).split())


def two_factor_verify(*, user: AbstractBaseUser, token: str):
    """The confirmed device that accepts `token` (six digits: the app; else a single-use recovery code).

    Each device throttles wrong codes itself (django-otp: the wait doubles with every failure, here up to
    TWO_FACTOR_MAX_WAIT), and each check commits on its own so that a refusal still counts.
    """
    token = _digits(token).lower()
    model = TOTPDevice if token.isdigit() and len(token) == 6 else StaticDevice
    _throttle_cap(model=model, user=user)
    device = model.objects.filter(user=user, confirmed=True).order_by("id").first()
    if device is None:
        raise TwoFactorError(_("That code is not right."))
    allowed, data = device.verify_is_allowed()
    if not allowed:
        raise TwoFactorError(_too_many(data), code="throttled")
    if model is StaticDevice:
        token = _recovery_token(device=device, code=token)
    verified = otp_verify_token(user, device.persistent_id, token)
    if verified is None:
        raise TwoFactorError(_("That code is not right."))
    return verified


def _throttle_cap(*, model: type[TOTPDevice] | type[StaticDevice], user: AbstractBaseUser) -> None:
    # django-otp waits factor * 2 ** (failures - 1) seconds and has no upper bound: the count of failures
    # stops where the wait would pass TWO_FACTOR_MAX_WAIT (also for counts from before there was a bound).
    factor = model(user=user).get_throttle_factor()
    if factor <= 0:
        return
    most = 1
    while factor * 2**most <= settings.TWO_FACTOR_MAX_WAIT.total_seconds():
        most += 1
    model.objects.filter(user=user, throttling_failure_count__gt=most).update(throttling_failure_count=most)


def sign_in_failed(*, request: HttpRequest, user: AbstractBaseUser) -> bool:
    """Counts a wrong code as a failed sign-in of `user` from this address, as a wrong password counts
    (django-axes); True once that user and address are locked out."""
    user_login_failed.send(sender=__name__, credentials={"username": user.get_username()}, request=request)
    return bool(getattr(request, "axes_locked_out", False))


def sign_in_succeeded(*, request: HttpRequest, user: AbstractBaseUser) -> int:
    """Forgets the failed sign-ins of `user` from this address once a sign-in is complete; returns how many
    records were removed."""
    address = get_client_ip_address(request)
    if not address:
        # Not a request from a browser (the test client's force_login): nothing to forget.
        return 0
    return AxesProxyHandler.reset_attempts(ip_address=address, username=user.get_username())


def recovery_codes_left(*, user: AbstractBaseUser) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def _too_many(data: dict | None) -> str:
    locked_until = (data or {}).get("locked_until")
    seconds = max(1, int((locked_until - timezone.now()).total_seconds()) + 1) if locked_until else 1
    return ngettext(
        "Too many wrong codes. Please wait %(seconds)s second and try again.",
        "Too many wrong codes. Please wait %(seconds)s seconds and try again.",
        seconds,
    ) % {"seconds": seconds}

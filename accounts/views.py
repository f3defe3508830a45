"""The office's second sign-in step, the set-up of an authenticator app, and one's own sign-in security page.

The code and set-up pages serve someone who has given their password but not yet a code: they are reachable
without a verified session, and only ever show or change that user's own devices. Setting up replaces the
app only for someone without one yet, or after a code: a password alone never swaps the second factor.
"""

from base64 import b32encode

import segno
from django.contrib import admin, messages
from django.contrib.auth import logout as auth_logout
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import login as otp_login
from django_otp import user_has_device

from accounts.access import office_staff_required, second_factor_missing, two_factor_required
from accounts.forms import AppCodeForm, CodeForm
from accounts.lockout import is_locked_out, lockout_response
from accounts.services import (
    TwoFactorError,
    recovery_codes_left,
    recovery_codes_regenerate,
    sessions_end_all,
    sessions_end_others,
    sign_in_failed,
    sign_in_succeeded,
    two_factor_confirm,
    two_factor_setup_start,
    two_factor_verify,
)

NEW_CODES_SESSION_KEY = "accounts_new_recovery_codes"


def _office_user(view):
    """Signed-in office staff, verified or not: these pages are where the second factor is given."""
    return never_cache(office_staff_required(view, second_factor=False))


def _next_url(request) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return reverse("admin:index")


def _context(request, **context):
    # Someone with the password alone sees nothing of the office's state, not even that mail is failing.
    return {
        **admin.site.each_context(request),
        "next": _next_url(request),
        "signed_in_fully": not second_factor_missing(request),
        **context,
    }


@sensitive_post_parameters("code")
@require_http_methods(["GET", "POST"])
@_office_user
def verify(request):
    """The code page: six digits from the app, or one of the recovery codes."""
    if not second_factor_missing(request):
        return redirect(_next_url(request))
    if not user_has_device(request.user):
        return redirect(f"{reverse('accounts:setup')}?{request.GET.urlencode()}")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if is_locked_out(request, request.user):
            return _locked_out(request)
        try:
            device = two_factor_verify(user=request.user, token=form.cleaned_data["code"])
        except TwoFactorError as error:
            # A code that was checked and wrong counts as a wrong password; a refusal to check (the wait) not.
            if error.code != "throttled" and sign_in_failed(request=request, user=request.user):
                return _locked_out(request)
            form.add_error("code", error.message)
        else:
            _complete_sign_in(request, device)
            if device.persistent_id.startswith("otp_static"):
                left = recovery_codes_left(user=request.user)
                messages.warning(
                    request,
                    ngettext(
                        "You signed in with a recovery code. %(count)s code is left: make new ones under "
                        "“Sign-in security”.",
                        "You signed in with a recovery code. %(count)s codes are left: make new ones under "
                        "“Sign-in security”.",
                        left,
                    )
                    % {"count": left},
                )
            return redirect(_next_url(request))
    status = 400 if form.errors else 200
    return render(
        request, "accounts/verify.html", _context(request, form=form, title=_("Sign-in code")), status=status
    )


def _complete_sign_in(request, device) -> None:
    """A right code: the failed sign-ins are forgotten and the session is verified, under a new key (as
    auth.login gives one after the password)."""
    sign_in_succeeded(request=request, user=request.user)
    request.session.cycle_key()
    otp_login(request, device)


def _locked_out(request):
    """The lockout page; the half sign-in ends, so that the password is asked again once the lockout is over."""
    auth_logout(request)
    return lockout_response(request)


def _grouped(key: bytes) -> str:
    text = b32encode(key).decode().rstrip("=")
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


@sensitive_post_parameters("code")
@require_http_methods(["GET", "POST"])
@_office_user
def setup(request):
    """Set up (or replace) the authenticator app: a QR code, the key written out, and a code to confirm."""
    if second_factor_missing(request) and user_has_device(request.user):
        # Someone with only the password must not swap the app: the code page first.
        return redirect(f"{reverse('accounts:verify')}?{request.GET.urlencode()}")
    form = AppCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device, codes = two_factor_confirm(
                user=request.user, session=request.session, token=form.cleaned_data["code"]
            )
        except TwoFactorError as error:
            form.add_error("code", error.message)
        else:
            _complete_sign_in(request, device)
            request.session[NEW_CODES_SESSION_KEY] = codes
            return redirect(f"{reverse('accounts:recovery_codes')}?{urlencode({'next': _next_url(request)})}")
    device = two_factor_setup_start(user=request.user, session=request.session)
    qr = segno.make(device.config_url, error="m").svg_inline(scale=5, title=_("QR code for the authenticator app"))
    context = _context(
        request,
        form=form,
        title=_("Set up two-factor sign-in"),
        qr=mark_safe(qr),  # segno's own SVG: no user input in it but the user name, which segno escapes
        key=_grouped(device.bin_key),
        required=two_factor_required(request.user),
        replacing=user_has_device(request.user),
        pending=second_factor_missing(request),
    )
    return render(request, "accounts/setup.html", context, status=400 if form.errors else 200)


@require_http_methods(["GET"])
@_office_user
def recovery_codes(request):
    """New recovery codes, shown once: they are taken out of the session as the page is shown."""
    if second_factor_missing(request):
        return redirect(f"{reverse('accounts:verify')}?{request.GET.urlencode()}")
    codes = request.session.pop(NEW_CODES_SESSION_KEY, None)
    if not codes:
        return redirect("accounts:security")
    return render(request, "accounts/recovery_codes.html", _context(request, codes=codes, title=_("Recovery codes")))


@require_http_methods(["GET"])
@_office_user
def security(request):
    """One's own sign-in security: the app, the recovery codes, signing out elsewhere or everywhere."""
    if second_factor_missing(request):
        return redirect(f"{reverse('accounts:verify')}?next={request.path}")
    context = _context(
        request,
        title=_("Sign-in security"),
        has_app=user_has_device(request.user, confirmed=True),
        codes_left=recovery_codes_left(user=request.user),
        required=two_factor_required(request.user),
    )
    return render(request, "accounts/security.html", context)


@require_POST
@_office_user
def recovery_codes_new(request):
    if second_factor_missing(request) or not user_has_device(request.user):
        return redirect("accounts:security")
    request.session[NEW_CODES_SESSION_KEY] = recovery_codes_regenerate(user=request.user)
    return redirect("accounts:recovery_codes")


@require_POST
@_office_user
def sign_out_everywhere(request):
    """Ends every session of this user, this one included."""
    if second_factor_missing(request):
        return redirect("accounts:security")
    sessions_end_all(user=request.user, actor=request.user)
    auth_logout(request)
    return redirect("admin:login")


@require_POST
@_office_user
def sign_out_others(request):
    """Ends every other session of this user; this one stays signed in."""
    if second_factor_missing(request):
        return redirect("accounts:security")
    sessions_end_others(user=request.user, keep_session=request.session, actor=request.user)
    messages.success(request, _("You are signed out on all other devices. You stay signed in on this one."))
    return redirect("accounts:security")


@require_POST
def sign_out(request):
    """For someone half signed in (password, no code yet): the admin's own sign-out needs a full sign-in."""
    auth_logout(request)
    return redirect("admin:login")

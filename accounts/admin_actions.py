"""Office admins' tools for a colleague's account: actions on the user list (customers.admin.StaffUserAdmin).

Each is recorded in the user's admin history (LogEntry) and logged.
"""

from django.contrib import admin, messages
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from accounts.services import sign_in_unlock, two_factor_reset
from technicians.services import devices_sign_out


def _for_each_user(modeladmin, request, queryset, *, service, history, done) -> list:
    """Call `service` for every chosen user, note `history` (or `history(result)`) on each one's admin history,
    and say `done(count)`; returns the service's results."""
    results = []
    for user in queryset:
        result = service(user=user, actor=request.user)
        modeladmin.log_change(request, user, history(result) if callable(history) else history)
        results.append(result)
    count = len(queryset)
    modeladmin.message_user(request, done(count) % {"count": count}, messages.SUCCESS)
    return results


@admin.action(description=_("Sign out all devices"), permissions=["change"])
def sign_out_all_devices(modeladmin, request, queryset):
    """The office's answer to "Jan lost his phone": the phone's calendar app loses the technician's calendar link
    too (devices_sign_out), so the message and each user's history say where one was stopped."""
    links = sum(
        _for_each_user(
            modeladmin,
            request,
            queryset,
            service=devices_sign_out,
            history=lambda link_stopped: (
                gettext("Signed out on all devices; calendar link revoked.")
                if link_stopped
                else gettext("Signed out on all devices.")
            ),
            done=lambda count: ngettext(
                "%(count)s user is signed out on every device.",
                "%(count)s users are signed out on every device.",
                count,
            ),
        )
    )
    if links:
        revoked = ngettext(
            "%(count)d calendar link revoked: it no longer shows any visits.",
            "%(count)d calendar links revoked: they no longer show any visits.",
            links,
        )
        modeladmin.message_user(request, revoked % {"count": links}, messages.SUCCESS)


@admin.action(description=_("Reset two-factor sign-in (lost phone)"), permissions=["change"])
def reset_two_factor(modeladmin, request, queryset):
    _for_each_user(
        modeladmin,
        request,
        queryset,
        service=two_factor_reset,
        history=gettext("Two-factor sign-in reset."),
        done=lambda count: ngettext(
            "Two-factor sign-in of %(count)s user is reset: they set up a new app at the next sign-in.",
            "Two-factor sign-in of %(count)s users is reset: they set up a new app at the next sign-in.",
            count,
        ),
    )


@admin.action(description=_("Lift sign-in lockout"), permissions=["change"])
def lift_lockout(modeladmin, request, queryset):
    _for_each_user(
        modeladmin,
        request,
        queryset,
        service=sign_in_unlock,
        history=gettext("Sign-in lockout lifted."),
        done=lambda count: ngettext("%(count)s user may sign in again.", "%(count)s users may sign in again.", count),
    )


STAFF_USER_ACTIONS = [lift_lockout, sign_out_all_devices, reset_two_factor]

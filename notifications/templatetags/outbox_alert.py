from django import template
from django.urls import reverse
from django.utils.translation import ngettext

from notifications.health import outbox_health
from notifications.models import MessageStatus

register = template.Library()


@register.inclusion_tag("notifications/_outbox_alert.html", takes_context=True)
def outbox_alert(context):
    """A banner on the office's pages while mail fails or is stuck: customers are not being told, and the
    office must phone those whose messages did not go out."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_active or not user.is_staff:
        return {"problems": []}
    health = outbox_health()
    problems = []
    if health.failed:
        problems.append(
            ngettext(
                "%(count)d message could not be sent and was given up.",
                "%(count)d messages could not be sent and were given up.",
                health.failed,
            )
            % {"count": health.failed}
        )
    if health.retrying:
        problems.append(
            ngettext(
                "%(count)d message is waiting for another attempt: the mail server refused it or could not be "
                "reached.",
                "%(count)d messages are waiting for another attempt: the mail server refused them or could not "
                "be reached.",
                health.retrying,
            )
            % {"count": health.retrying}
        )
    if health.stuck:
        minutes = int(health.oldest_wait.total_seconds() // 60)
        problems.append(
            ngettext(
                "Mail is not going out: a message due %(minutes)d minute ago is still waiting.",
                "Mail is not going out: a message due %(minutes)d minutes ago is still waiting.",
                minutes,
            )
            % {"minutes": minutes}
        )
    outbox_url = None
    if problems and user.has_perm("notifications.view_outboxmessage"):
        status = MessageStatus.FAILED if health.failed else MessageStatus.QUEUED
        outbox_url = f"{reverse('admin:notifications_outboxmessage_changelist')}?status__exact={status}"
    return {"problems": problems, "outbox_url": outbox_url}

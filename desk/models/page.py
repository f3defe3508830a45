from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class DeskVisit(models.Model):
    """When an office person last marked the online changes on My desk as seen: "new since I last looked"."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="desk_visit", verbose_name=_("user")
    )
    last_seen_at = models.DateTimeField(_("online changes seen until"))

    class Meta:
        verbose_name = _("desk visit")
        verbose_name_plural = _("desk visits")

    def __str__(self):
        return f"{self.user} · {self.last_seen_at:%Y-%m-%d %H:%M}"

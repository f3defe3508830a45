from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class SessionGeneration(models.Model):
    """Which of a user's sessions still count: a session remembers the generation it was signed in under, and
    "Sign out all devices" raises it, so every older session ends on its next request, wherever it lives."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="session_generation",
        verbose_name=_("user"),
    )
    generation = models.PositiveIntegerField(_("generation"), default=0)
    raised_at = models.DateTimeField(_("last signed out everywhere"), null=True, blank=True)

    class Meta:
        verbose_name = _("session generation")
        verbose_name_plural = _("session generations")

    def __str__(self) -> str:
        return f"{self.user_id}: {self.generation}"

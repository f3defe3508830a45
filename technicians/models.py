"""The technician's calendar feed: a secret URL their phone's calendar subscribes to."""

import hashlib

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


def token_hash(token: str) -> str:
    """The stored form of a feed token: its SHA-256 in hex.

    The token carries 256 random bits, so a plain hash is enough (no salt, no slow hash): nobody can guess
    a token from its hash, and a copy of the database therefore holds no working calendar URL.
    """
    return hashlib.sha256(token.encode()).hexdigest()


class CalendarFeedQuerySet(models.QuerySet):
    def active(self):
        return self.filter(revoked_at__isnull=True)


class CalendarFeed(models.Model):
    """One issued calendar link. Issuing a new one revokes the old; revoked rows stay as the record of who
    issued and revoked which link when."""

    technician = models.ForeignKey(
        "appointments.Technician",
        on_delete=models.CASCADE,
        related_name="calendar_feeds",
        verbose_name=_("technician"),
    )
    # Only the hash: the link is shown once, when it is issued (like an API key).
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("issued"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("issued by"),
    )
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("revoked by"),
    )
    # Whether the phone still polls; written at most once an hour (see services.feed_note_fetch).
    last_fetched_at = models.DateTimeField(_("last fetched"), null=True, blank=True)

    objects = CalendarFeedQuerySet.as_manager()

    class Meta:
        verbose_name = _("calendar link")
        verbose_name_plural = _("calendar links")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["technician"],
                condition=Q(revoked_at__isnull=True),
                name="calendar_feed_one_active_per_technician",
            ),
        ]

    def __str__(self):
        return f"{self.technician} · {self.created_at:%Y-%m-%d %H:%M}"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

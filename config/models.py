from django.db import models
from django.utils.translation import gettext_lazy as _


class Heartbeat(models.Model):
    """The last time a periodic job ran on a worker: proof that beat schedules and a worker executes.

    A broadcast ping (`celery inspect ping`) would prove only that a worker listens, and it cannot work on the
    embedded SQLite broker at all; a row written by a scheduled task works on every broker and also notices
    a stopped beat, without which no reminder or retry goes out."""

    name = models.CharField(_("name"), max_length=40, primary_key=True)
    beat_at = models.DateTimeField(_("last beat"))

    class Meta:
        verbose_name = _("heartbeat")
        verbose_name_plural = _("heartbeats")

    def __str__(self):
        return f"{self.name} @ {self.beat_at:%Y-%m-%d %H:%M:%S}"

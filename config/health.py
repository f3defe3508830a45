"""Readiness (/readyz): can this deployment do its work right now? /healthz stays the liveness answer that
touches nothing, so a slow database never gets a web container restarted."""

import dataclasses
import datetime

from asgiref.sync import sync_to_async
from django.conf import settings
from django.utils import timezone
from health_check.base import HealthCheck
from health_check.checks import Cache, Database
from health_check.exceptions import ServiceUnavailable
from health_check.views import HealthCheckView

from config.celery import app as celery_app
from config.models import Heartbeat
from config.tasks import WORKER_HEARTBEAT
from notifications.health import outbox_health


@dataclasses.dataclass
class Broker(HealthCheck):
    """Celery's broker accepts a connection: without it nothing queued reaches a worker."""

    timeout = datetime.timedelta(seconds=3)

    def run(self):
        try:
            with celery_app.connection_for_write() as connection:
                connection.ensure_connection(max_retries=1, timeout=self.timeout.total_seconds())
        except Exception as error:  # kombu raises the transport's own errors
            raise ServiceUnavailable("broker unreachable") from error


@dataclasses.dataclass
class Worker(HealthCheck):
    """A worker ran beat's heartbeat job lately (config.tasks.record_heartbeat, every minute)."""

    async def run(self):
        await sync_to_async(self._check, thread_sensitive=True)()

    def _check(self):
        beat_at = Heartbeat.objects.filter(name=WORKER_HEARTBEAT).values_list("beat_at", flat=True).first()
        if beat_at is None:
            raise ServiceUnavailable("no worker has run the heartbeat job yet")
        silent = timezone.now() - beat_at
        if silent > settings.WORKER_HEARTBEAT_MAX_AGE:
            raise ServiceUnavailable(f"no heartbeat from a worker for {int(silent.total_seconds() // 60)} min")


@dataclasses.dataclass
class Outbox(HealthCheck):
    """Mail goes out: nothing failed lately, nothing due waits too long."""

    async def run(self):
        await sync_to_async(self._check, thread_sensitive=True)()

    def _check(self):
        # One refused address, or one greylisted message, is the office's to handle (the banner names it);
        # readiness fails when mail as a whole is in trouble: many failing, or nothing going out.
        health = outbox_health()
        problems = []
        failing = health.failed + health.retrying
        if failing >= settings.OUTBOX_READY_MAX_FAILING:
            problems.append(f"{health.failed} failed, {health.retrying} waiting to be retried after an error")
        if health.stuck:
            problems.append(f"oldest due message waiting {int(health.oldest_wait.total_seconds() // 60)} min")
        if problems:
            raise ServiceUnavailable("; ".join(problems))


class ReadinessView(HealthCheckView):
    checks = (Database, Cache, Broker, Worker, Outbox)

    async def get(self, request, *args, **kwargs):
        response = await super().get(request, *args, **kwargs)
        # 503 is what load balancers and monitors read as "not ready"; the library answers 500.
        if response.status_code == 500:
            response.status_code = 503
        return response


readiness = ReadinessView.as_view()

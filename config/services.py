from datetime import datetime

from django.db import transaction

from config.models import Heartbeat


@transaction.atomic
def heartbeat_record(*, name: str, at: datetime) -> None:
    Heartbeat.objects.update_or_create(name=name, defaults={"beat_at": at})

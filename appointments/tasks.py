"""Thin tasks: the services do the work."""

from celery import shared_task

from appointments.services.follow_up import missed_follow_ups_flag


@shared_task(name="appointments.tasks.flag_missed_follow_ups", ignore_result=True)
def flag_missed_follow_ups() -> int:
    return missed_follow_ups_flag()

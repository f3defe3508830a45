"""Nothing promised lapses in silence: the owner is told when a promise is due soon and when it is late, a
lead when it stays late for PROMISE_ESCALATE_AFTER office hours. Each warning once (time-machine, no sleeps)."""

from datetime import datetime, time, timedelta

import pytest
import time_machine
from django.conf import settings
from django.contrib.auth.models import Group
from django.utils import timezone, translation

from desk.models import Promise, PromiseKind
from desk.services import promise_keep, promise_make, promise_move, promise_reassign, promise_void, promises_warn
from desk.tasks import warn_about_promises
from desk.working_time import working_time_between
from journal.services import journal_record
from notifications.models import MessageKind, OutboxMessage
from notifications.rendering import render_message
from tests.factories import CustomerFactory, FirmFactory, OfficeUserFactory, TechnicianFactory, UserFactory

pytestmark = pytest.mark.django_db


def monday(weeks_ahead: int = 2):
    day = timezone.localdate() + timedelta(weeks=weeks_ahead)
    return day - timedelta(days=day.weekday())


def at(day, hour, minute=0) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


@pytest.fixture
def office(db):
    FirmFactory()
    owner = OfficeUserFactory(first_name="Sandra", last_name="Brinkmann", is_superuser=False)
    lead = UserFactory(first_name="Petra", last_name="Lehmann", username="petra")
    Group.objects.create(name=settings.DESK_LEADS_GROUP).user_set.add(lead)
    boss = OfficeUserFactory(username="boss", first_name="Bernd", last_name="Chef")  # a superuser, not a lead
    return {"owner": owner, "lead": lead, "boss": boss}


@pytest.fixture
def customer(office):
    return CustomerFactory(full_name="Anna Schmitz", phone="+4930123456", responsible=office["owner"])


def make(customer, office, due_at, kind=PromiseKind.CALL_BACK):
    return promise_make(customer=customer, kind=kind, owner=office["owner"], due_at=due_at, note="Angebot Therme")


def mails(kind=None, user=None):
    rows = OutboxMessage.objects.all()
    if kind:
        rows = rows.filter(kind=kind)
    if user:
        rows = rows.filter(recipient_user=user)
    return list(rows.order_by("pk"))


def warn_at(moment):
    with time_machine.travel(moment, tick=False):
        return promises_warn()


def test_the_owner_is_told_once_when_a_promise_is_due_soon_then_once_when_it_is_late(customer, office):
    day = monday()
    promise = make(customer, office, at(day, 10))

    assert warn_at(at(day, 8, 55)) == {"due_soon": 0, "late": 0, "escalated": 0}
    assert warn_at(at(day, 9, 0))["due_soon"] == 1
    assert warn_at(at(day, 9, 5))["due_soon"] == 0
    assert warn_at(at(day, 10, 0))["late"] == 1
    assert warn_at(at(day, 10, 5))["late"] == 0

    assert [m.recipient_user for m in mails(MessageKind.PROMISE_DUE_SOON)] == [office["owner"]]
    assert [m.recipient_user for m in mails(MessageKind.PROMISE_LATE)] == [office["owner"]]
    promise.refresh_from_db()
    assert promise.warned_due_soon_at == at(day, 9, 0) and promise.warned_late_at == at(day, 10, 0)
    assert promise.escalated_at is None


def test_a_lead_is_told_once_after_four_office_hours_late(customer, office):
    day = monday()
    make(customer, office, at(day, 10))

    assert warn_at(at(day, 13, 59))["escalated"] == 0
    assert warn_at(at(day, 14, 0))["escalated"] == 1
    assert warn_at(at(day, 16, 0))["escalated"] == 0

    assert [m.recipient_user for m in mails(MessageKind.PROMISE_ESCALATED)] == [office["lead"]]


def test_escalation_counts_office_hours_only_a_friday_afternoon_promise_reaches_the_lead_on_monday(customer, office):
    friday = monday() + timedelta(days=4)
    make(customer, office, at(friday, 16))

    assert warn_at(at(friday + timedelta(days=1), 12))["escalated"] == 0  # Saturday: the office is shut
    assert warn_at(at(friday + timedelta(days=3), 10, 59))["escalated"] == 0  # 1 h on Friday + 2:59 on Monday
    assert warn_at(at(friday + timedelta(days=3), 11, 0))["escalated"] == 1


def test_without_leads_the_superusers_are_told(customer, office):
    Group.objects.all().delete()
    day = monday()
    make(customer, office, at(day, 10))

    warn_at(at(day, 15))

    assert {m.recipient_user for m in mails(MessageKind.PROMISE_ESCALATED)} == {office["boss"]}


def test_an_inactive_lead_or_a_technician_in_the_group_is_not_a_lead(customer, office):
    group = Group.objects.get()
    office["lead"].is_active = False
    office["lead"].save()
    group.user_set.add(TechnicianFactory().user)
    day = monday()
    make(customer, office, at(day, 10))

    warn_at(at(day, 15))

    assert {m.recipient_user for m in mails(MessageKind.PROMISE_ESCALATED)} == {office["boss"]}


def test_a_busy_machine_that_runs_the_job_late_still_warns_each_once_and_never_due_soon_after_the_fact(
    customer, office
):
    day = monday()
    make(customer, office, at(day, 10))

    # The beat was held up all day: the first run comes after everything was due.
    assert warn_at(at(day, 16, 30)) == {"due_soon": 0, "late": 1, "escalated": 1}
    assert warn_at(at(day, 16, 31)) == {"due_soon": 0, "late": 0, "escalated": 0}
    assert len(mails()) == 2


def test_a_run_warns_a_batch_oldest_first_and_the_next_run_goes_on_where_it_stopped(customer, office, monkeypatch):
    monkeypatch.setattr("desk.services.promises.WARN_BATCH", 3)
    day = monday()
    # Made newest first: the runs must not take them in the order they were written.
    promises = [make(customer, office, at(day, 10, minute)) for minute in range(6, -1, -1)][::-1]

    runs = [warn_at(at(day, 16, 30 + run)) for run in range(4)]

    assert [(run["late"], run["escalated"]) for run in runs] == [(3, 3), (3, 3), (1, 1), (0, 0)]
    escalated = [m.context["promise_id"] for m in mails(MessageKind.PROMISE_ESCALATED)]
    assert escalated == [promise.pk for promise in promises]  # the 7th (2 batches + 1) too, oldest first


def test_promises_a_weekend_made_late_by_the_clock_but_not_in_office_hours_are_weighed_once_a_run(
    customer, office, monkeypatch
):
    friday = monday() + timedelta(days=4)
    for minute in range(20):
        make(customer, office, at(friday, 16, minute))
    weighed = []
    real = working_time_between
    monkeypatch.setattr(
        "desk.services.promises.working_time_between", lambda start, end: weighed.append(start) or real(start, end)
    )

    counts = warn_at(at(friday + timedelta(days=3), 9))  # Monday: about two office hours late, 65 by the clock

    assert counts["escalated"] == 0
    assert weighed == [at(friday, 16, 0)]


@pytest.mark.parametrize(
    "close",
    [
        lambda promise, customer: promise_keep(
            promise=promise, entry=journal_record(customer=customer, action="contact.recorded", summary="Called.")
        ),
        lambda promise, customer: promise_void(promise=promise, reason="not needed"),
        lambda promise, customer: promise_move(promise=promise, due_at=promise.due_at + timedelta(weeks=4)),
    ],
    ids=["kept", "voided", "moved"],
)
def test_a_kept_voided_or_moved_promise_is_never_warned(customer, office, close):
    day = monday()
    promise = make(customer, office, at(day, 10))
    close(promise, customer)

    for moment in (at(day, 9, 30), at(day, 10, 30), at(day, 16, 30)):
        warn_at(moment)

    assert mails() == []


def test_a_moved_promise_is_a_new_row_and_is_warned_afresh(customer, office):
    day = monday()
    first = make(customer, office, at(day, 10))
    warn_at(at(day, 10, 5))
    moved = promise_move(promise=first, due_at=at(day + timedelta(days=1), 10))

    warn_at(at(day + timedelta(days=1), 10, 5))

    late = mails(MessageKind.PROMISE_LATE)
    assert [m.context["promise_id"] for m in late] == [first.pk, moved.pk]


def test_a_promise_handed_over_warns_its_new_owner(customer, office):
    day = monday()
    promise = make(customer, office, at(day, 10))
    warn_at(at(day, 9, 30))
    colleague = OfficeUserFactory(username="kollege", is_superuser=False)
    promise_reassign(promise=promise, owner=colleague)

    warn_at(at(day, 9, 31))

    assert [m.recipient_user for m in mails(MessageKind.PROMISE_DUE_SOON)] == [office["owner"], colleague]


def test_the_beat_runs_the_warnings_every_five_minutes(customer, office):
    entry = settings.CELERY_BEAT_SCHEDULE["promise-warnings"]
    assert entry == {"task": "desk.tasks.warn_about_promises", "schedule": 300.0}
    make(customer, office, timezone.now() - timedelta(minutes=1))

    assert warn_about_promises.apply().get()["late"] == 1


@pytest.mark.parametrize(
    "language, words",
    [
        ("de", ["Bald fällig", "zurückrufen", "Anna Schmitz", "+49 30 123456", "Zusage öffnen"]),
        ("nl", ["Binnenkort", "terugbellen", "Anna Schmitz", "+49 30 123456", "Toezegging openen"]),
        ("en", ["Due soon", "call back", "Anna Schmitz", "+49 30 123456", "Open the promise"]),
    ],
)
def test_the_due_soon_mail_says_what_for_whom_with_phone_when_and_links_the_promise(
    customer, office, settings, language, words
):
    settings.LANGUAGE_CODE = language
    day = monday()
    promise = make(customer, office, at(day, 10))
    warn_at(at(day, 9, 30))

    with time_machine.travel(at(day, 9, 31), tick=False):
        mail = render_message(mails(MessageKind.PROMISE_DUE_SOON)[0])
    html = mail.alternatives[0][0]
    assert words[0] in mail.subject
    for text in (mail.body, html):
        for word in words[1:]:
            assert word in text, (word, text)
    assert f"/admin/desk/promise/{promise.pk}/change/" in mail.body
    with translation.override(language):
        assert "10:00" in mail.subject


def test_the_late_and_escalated_mails_name_the_owner_and_how_late(customer, office, settings):
    settings.LANGUAGE_CODE = "de"
    day = monday()
    make(customer, office, at(day, 10))
    warn_at(at(day, 14, 30))

    with time_machine.travel(at(day, 14, 30), tick=False):
        late = render_message(mails(MessageKind.PROMISE_LATE)[0])
        escalated = render_message(mails(MessageKind.PROMISE_ESCALATED)[0])
    assert "Überfällig" in late.subject and "Anna Schmitz" in late.body
    assert "Sandra Brinkmann" in escalated.subject and "4 Std. 30 Min." in escalated.subject
    assert escalated.to == [office["lead"].email]
    assert Promise.objects.get().escalated_at == at(day, 14, 30)


def test_a_warning_queued_before_its_promise_was_kept_is_not_sent(customer, office):
    from notifications.models import MessageStatus
    from notifications.services import messages_deliver

    day = monday()
    kept = make(customer, office, at(day, 10))
    still_open = make(customer, office, at(day, 10, 15))
    warn_at(at(day, 9, 15))
    promise_keep(promise=kept, entry=journal_record(customer=customer, action="contact.recorded", summary="x"))

    with time_machine.travel(at(day, 9, 20), tick=False):
        messages_deliver(message_ids=[m.pk for m in mails(MessageKind.PROMISE_DUE_SOON)])

    statuses = {m.context["promise_id"]: (m.status, m.last_error) for m in mails(MessageKind.PROMISE_DUE_SOON)}
    assert statuses[kept.pk] == (MessageStatus.SUPERSEDED, "superseded:promise_closed")
    assert statuses[still_open.pk][0] == MessageStatus.SENT

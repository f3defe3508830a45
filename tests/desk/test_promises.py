import pytest

from desk.models import Promise, PromiseKind, PromiseState
from desk.services import PromiseError, promise_keep, promise_make, promise_move, promise_reassign, promise_void
from journal.models import JournalEntry
from journal.services import journal_record
from tests.factories import AppointmentFactory, CustomerFactory, TechnicianFactory, UserFactory, local_dt


def contact(customer):
    return journal_record(customer=customer, action="contact.recorded", summary="Called, quote sent.")


def test_a_promise_made_is_journalled_for_its_customer(db):
    customer = CustomerFactory()
    promise = promise_make(
        customer=customer, kind=PromiseKind.SEND_QUOTE, owner=customer.responsible, due_at=local_dt(2, 12)
    )
    entry = JournalEntry.objects.get(action="promise.made")
    assert promise.state == PromiseState.OPEN
    assert entry.customer == customer and entry.data["promise_id"] == promise.pk


def test_a_technician_cannot_own_a_promise(db):
    customer = CustomerFactory()
    with pytest.raises(PromiseError):
        promise_make(customer=customer, kind="call_back", owner=TechnicianFactory().user, due_at=local_dt(1, 9))
    assert not Promise.objects.exists()


def test_a_promise_cannot_be_about_another_customers_visit(db):
    customer = CustomerFactory()
    with pytest.raises(PromiseError):
        promise_make(
            customer=customer,
            kind="call_before_visit",
            owner=customer.responsible,
            due_at=local_dt(1, 9),
            appointment=AppointmentFactory(),
        )


def test_keeping_a_promise_records_the_contact_that_kept_it(db):
    customer = CustomerFactory()
    promise = promise_make(customer=customer, kind="call_back", owner=customer.responsible, due_at=local_dt(1, 9))
    entry = contact(customer)
    promise_keep(promise=promise, entry=entry)
    promise.refresh_from_db()
    assert promise.state == PromiseState.DONE and promise.kept_by == entry and promise.closed_at


def test_a_kept_promise_cannot_be_kept_or_voided_again(db):
    customer = CustomerFactory()
    promise = promise_make(customer=customer, kind="call_back", owner=customer.responsible, due_at=local_dt(1, 9))
    promise_keep(promise=promise, entry=contact(customer))
    with pytest.raises(PromiseError):
        promise_keep(promise=promise, entry=contact(customer))
    with pytest.raises(PromiseError):
        promise_void(promise=promise, reason="No longer needed")


def test_moving_a_promise_closes_the_old_time_and_opens_the_new(db):
    customer = CustomerFactory()
    old = promise_make(customer=customer, kind="call_back", owner=customer.responsible, due_at=local_dt(1, 9))
    new = promise_move(promise=old, due_at=local_dt(2, 14), reason="Customer asked for the afternoon")
    old.refresh_from_db()
    assert old.state == PromiseState.MOVED and new.state == PromiseState.OPEN
    assert new.replaces == old and new.due_at == local_dt(2, 14)
    assert list(Promise.objects.filter(state=PromiseState.OPEN)) == [new]


def test_a_void_needs_a_reason(db):
    customer = CustomerFactory()
    promise = promise_make(customer=customer, kind="call_back", owner=customer.responsible, due_at=local_dt(1, 9))
    with pytest.raises(PromiseError):
        promise_void(promise=promise, reason="  ")
    promise.refresh_from_db()
    assert promise.state == PromiseState.OPEN


def test_handing_a_promise_over_resets_the_warnings_for_the_new_owner(db):
    customer = CustomerFactory()
    promise = promise_make(customer=customer, kind="call_back", owner=customer.responsible, due_at=local_dt(1, 9))
    Promise.objects.filter(pk=promise.pk).update(warned_due_soon_at=local_dt(1, 8))
    colleague = UserFactory()
    promise_reassign(promise=promise, owner=colleague)
    promise.refresh_from_db()
    assert promise.owner == colleague and promise.warned_due_soon_at is None

from desk.models import PostcodeArea
from desk.owners import owner_for
from tests.factories import CustomerFactory, PromiseFactory, TechnicianFactory, UserFactory


def test_a_customers_promises_belong_to_their_responsible_person(db):
    customer = CustomerFactory()
    assert owner_for(customer=customer) == customer.responsible


def test_someone_new_goes_to_the_person_for_the_longest_matching_postcode(db):
    berlin, friedrichshain = UserFactory(), UserFactory()
    PostcodeArea.objects.create(prefix="10", owner=berlin)
    PostcodeArea.objects.create(prefix="102", owner=friedrichshain)
    assert owner_for(postcode="10245") == friedrichshain
    assert owner_for(postcode="10115") == berlin


def test_a_customer_whose_responsible_person_left_goes_by_postcode(db):
    customer = CustomerFactory(postcode="10245")
    customer.responsible.is_active = False
    customer.responsible.save()
    area_owner = UserFactory()
    PostcodeArea.objects.create(prefix="10", owner=area_owner)
    assert owner_for(customer=customer) == area_owner


def test_otherwise_the_office_person_with_the_fewest_open_promises_gets_it(db):
    busy, free = UserFactory(), UserFactory()
    PromiseFactory(owner=busy, customer=CustomerFactory(responsible=busy))
    TechnicianFactory()  # technicians are staff users but never owners
    assert owner_for(postcode="99999") == free


def test_a_customer_whose_responsible_person_is_no_longer_office_staff_goes_by_postcode(db):
    # Still an active account, but now a technician or without staff access: not the customer's desk contact
    # (mails would name the firm instead of a person).
    area_owner = UserFactory()
    PostcodeArea.objects.create(prefix="10", owner=area_owner)
    became_technician = CustomerFactory(postcode="10245")
    TechnicianFactory(user=became_technician.responsible)
    no_longer_staff = CustomerFactory(postcode="10115")
    no_longer_staff.responsible.is_staff = False
    no_longer_staff.responsible.save()
    assert owner_for(customer=became_technician) == area_owner
    assert owner_for(customer=no_longer_staff) == area_owner

from datetime import datetime, time, timedelta

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from appointments.models import Appointment, AppointmentStatus, ServiceType, Technician, VisitAttempt, WorkingPeriod
from customers.models import Customer, Firm, OfficeProfile


def local_dt(day_offset: int, hour: int, minute: int = 0) -> datetime:
    """An aware datetime in the firm's zone, `day_offset` days from today."""
    day = timezone.localdate() + timedelta(days=day_offset)
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


def request_fields(**changes) -> dict:
    """A website request's fields as desk.services.request_submit takes them: Eva Janssen in Nijmegen."""
    return {
        "full_name": "Eva Janssen",
        "email": "eva@example.nl",
        "phone": "06 49123456",
        "street": "Hoogstraat 5",
        "postcode": "6511 AB",
        "city": "Nijmegen",
        "country": "NL",
        "about": "Our boiler makes a noise.",
        "reachable": "any",
        "reachable_note": "",
        **changes,
    }


def request_fields_on_file(**changes) -> Customer:
    """The customer on file whom request_fields() describes: a request with those fields is matched to them."""
    typed = request_fields()
    on_file = {key: typed[key] for key in ("full_name", "email", "street", "postcode", "city", "country")}
    return CustomerFactory(**(on_file | changes))


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name", locale="de_DE")
    last_name = factory.Faker("last_name", locale="de_DE")
    email = factory.LazyAttribute(lambda user: f"{user.username}@firm.example")
    password = factory.django.Password("secret-password")
    is_staff = True


class OfficeUserFactory(UserFactory):
    class Meta:
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"office{n}")
    is_superuser = True
    office_profile = factory.RelatedFactory("tests.factories.OfficeProfileFactory", factory_related_name="user")


class OfficeProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OfficeProfile

    user = factory.SubFactory(UserFactory)
    direct_phone = "+492821123456"


class FirmFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Firm

    name = "Haustechnik Test GmbH"
    email = "office@firm.example"
    phone = "+492821100000"


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    full_name = factory.Faker("name", locale="de_DE")
    email = factory.Sequence(lambda n: f"customer{n}@example.de")
    phone = factory.Sequence(lambda n: f"+4930{1000000 + n}")
    street = factory.Faker("street_address", locale="de_DE")
    postcode = factory.Sequence(lambda n: f"{47533 + n % 100:05d}")
    city = "Kleve"
    responsible = factory.SubFactory(UserFactory)


class ServiceTypeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ServiceType
        django_get_or_create = ["name"]

    name = factory.Sequence(lambda n: f"Boiler maintenance {n}")
    name_de = factory.LazyAttribute(lambda service: service.name.replace("Boiler maintenance", "Heizungswartung"))
    name_nl = factory.LazyAttribute(lambda service: service.name.replace("Boiler maintenance", "CV-onderhoud"))
    # The job and its buffer fill the 4-hour window: one visit per window unless a test says otherwise.
    duration = timedelta(hours=3, minutes=30)
    arrival_window = timedelta(hours=4)
    buffer_after = timedelta(minutes=30)


class TechnicianFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Technician
        skip_postgeneration_save = True

    user = factory.SubFactory(UserFactory)
    display_name = factory.LazyAttribute(lambda technician: technician.user.get_full_name())
    mobile_phone = factory.Sequence(lambda n: f"+49151{20000000 + n}")

    @factory.post_generation
    def service_types(self, create, extracted, **kwargs):
        if create:
            self.service_types.set(extracted or [])

    @factory.post_generation
    def weekdays(self, create, extracted, **kwargs):
        """Mon–Fri 07:30–16:30 unless `weekdays=False`: then the test sets the hours itself."""
        if create and extracted is not False:
            for weekday in range(5):
                WorkingPeriod.objects.create(technician=self, weekday=weekday, starts=time(7, 30), ends=time(16, 30))


class AppointmentFactory(factory.django.DjangoModelFactory):
    """A row as the services would write it; for lists and pages, not for testing the rules."""

    class Meta:
        model = Appointment

    customer = factory.SubFactory(CustomerFactory)
    service_type = factory.SubFactory(ServiceTypeFactory)
    technician = factory.SubFactory(TechnicianFactory)
    window_start = factory.Sequence(lambda n: local_dt(1 + n, 8))
    window_end = factory.LazyAttribute(lambda a: a.window_start + a.service_type.arrival_window)
    expected_duration = factory.LazyAttribute(lambda a: a.service_type.duration)
    planned_start = factory.LazyAttribute(lambda a: a.window_start)
    occupied_until = factory.LazyAttribute(
        lambda a: a.planned_start + a.expected_duration + a.service_type.buffer_after
    )
    status = AppointmentStatus.SCHEDULED
    site_street = factory.LazyAttribute(lambda a: a.customer.street)
    site_postcode = factory.LazyAttribute(lambda a: a.customer.postcode)
    site_city = factory.LazyAttribute(lambda a: a.customer.city)


class VisitAttemptFactory(factory.django.DjangoModelFactory):
    """A missed visit as visit_mark_missed records it; for lists, cards and pages."""

    class Meta:
        model = VisitAttempt

    appointment = factory.SubFactory(AppointmentFactory, status=AppointmentStatus.MISSED)
    technician = factory.LazyAttribute(lambda attempt: attempt.appointment.technician)
    at = factory.LazyAttribute(lambda attempt: attempt.appointment.window_start + timedelta(minutes=62))
    window_start = factory.LazyAttribute(lambda attempt: attempt.appointment.window_start)
    window_end = factory.LazyAttribute(lambda attempt: attempt.appointment.window_end)
    appointment_version = factory.LazyAttribute(lambda attempt: attempt.appointment.version)
    waited_minutes = 10
    card_left = True


class PromiseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "desk.Promise"

    kind = "call_back"
    customer = factory.SubFactory(CustomerFactory)
    owner = factory.LazyAttribute(lambda promise: promise.customer.responsible)
    due_at = factory.LazyFunction(lambda: local_dt(1, 10))


class FeedbackFactory(factory.django.DjangoModelFactory):
    """Feedback as feedback_receive records it (with its owner's open promise), without its mail."""

    class Meta:
        model = "desk.Feedback"
        skip_postgeneration_save = True

    customer = factory.SubFactory(CustomerFactory)
    channel = "phone"
    rating = 3
    comment = "Alles gut, aber etwas spät."
    received_at = factory.LazyFunction(timezone.now)
    owner = factory.LazyAttribute(lambda feedback: feedback.customer.responsible)
    reply_due_at = factory.LazyAttribute(lambda feedback: feedback.received_at + timedelta(days=2))
    promise = factory.LazyAttribute(
        lambda feedback: PromiseFactory(
            kind="reply_feedback", customer=feedback.customer, owner=feedback.owner, due_at=feedback.reply_due_at
        )
    )


class OutboxMessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "notifications.OutboxMessage"

    kind = "confirmation"
    status = "sent"
    dedupe_key = factory.Sequence(lambda n: f"factory:{n}")
    customer = factory.SubFactory(CustomerFactory)
    to_email = factory.LazyAttribute(lambda message: message.customer.email)
    language = "de"


class TOTPDeviceFactory(factory.django.DjangoModelFactory):
    """A confirmed authenticator app: tests compute its codes with tests.accounts.signin.totp_code."""

    class Meta:
        model = "otp_totp.TOTPDevice"

    user = factory.SubFactory(OfficeUserFactory)
    name = "app"
    confirmed = True

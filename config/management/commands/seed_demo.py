"""Fill a Doorstep database with a believable fortnight of a Lower Rhine trades firm.

    manage.py seed_demo

Creates the firm, an office login, two technicians with weekly hours, three
service types, 40 German, Dutch and English-speaking customers and about two
weeks of visits around today (a week back, a week ahead) in every state a visit
can be in. Customers and appointments go through the services, so the contact
journal tells the same story as the records.

Safe to run again: users are found by username, service types by name,
customers by email, the firm if any exists; appointments are only created while
none of the demo customers has one. A second run changes nothing.
"""

import random
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from appointments.closed_days import closed_days
from appointments.models import Appointment, Closure, ServiceType, Technician, TimeOff, WorkingPeriod
from appointments.services import (
    AppointmentError,
    appointment_cancel,
    appointment_reschedule,
    appointment_schedule,
    visit_arrive,
    visit_complete,
    visit_mark_missed,
    visit_start_trip,
)
from appointments.services.follow_up import missed_follow_ups_flag
from config.demo_data import (
    BOILER,
    CANCEL_REASONS,
    CHANNEL_FOR_PREFERENCE,
    CLOSURE_REASON,
    CUSTOMERS,
    DAYS_AHEAD,
    DAYS_BACK,
    FIRM,
    GAS,
    HEAT_PUMP,
    MISSED_NOTES,
    OFFICE_PASSWORD,
    OFFICE_USER,
    PROMISES,
    REPORTS,
    RESCHEDULE_EARLIER_REASON,
    RESCHEDULE_LATER_REASONS,
    RESCHEDULE_MISSED_REASON,
    SEED,
    SERVICE_TYPES,
    SLOT_STARTS,
    SLOT_WINDOWS,
    TECH_PASSWORD,
    TECHNICIANS,
    TIME_OFF_REASON,
    TIME_OFF_USERNAME,
    VISIT_NOTES,
    WORKING_HOURS,
)
from customers.models import Customer, Firm, OfficeProfile
from customers.services import customer_create
from desk.models import Promise
from desk.services import promise_make
from desk.working_time import (
    last_quarter,
    office_periods,
    office_quarter_at_or_after,
    office_quarter_at_or_before,
    on_the_quarter,
)
from journal.models import Channel, Direction


@dataclass
class Slot:
    day: date
    tech: int  # index into the technician list
    half: str  # "am", "pm" or "day"


@dataclass
class Visit:
    slot: Slot
    service: ServiceType
    customer: Customer | None = None
    outcome: str = "scheduled"  # done, missed, cancelled, scheduled, requested
    moved_from: Slot | None = None  # booked there first, then moved to `slot`
    moved_to: Slot | None = None  # after a missed visit, moved here
    notes: str = ""
    trip_offset: int = 0  # minutes after the planned start the technician is at the door
    travel: int = 20  # minutes on the road
    overrun: int = 0  # minutes longer than the expected duration
    report: str = ""
    missed_note: str = ""
    cancel_reason: str = ""


def _aware(day: date, at: time) -> datetime:
    return timezone.make_aware(datetime.combine(day, at))


def _later_today(now: datetime) -> tuple[datetime, datetime]:
    """Two quarter hours in the office's time still ahead today, a third and two thirds of the way to its last
    quarter; after closing (or on a day it is shut), in the next office day's."""
    for opens, closes in office_periods(timezone.localdate(now), 14):
        start, last = max(now, opens), last_quarter(closes)
        if last > start:
            break
    else:  # an office that is never open: the clock's quarter hours
        start, last = now, now + timedelta(hours=3)
    return tuple(min(on_the_quarter(start + (last - start) * share / 3, up=True), last) for share in (1, 2))


class Command(BaseCommand):
    help = "Create demo data: a firm, logins, technicians, 40 customers and two weeks of visits. Idempotent."

    def handle(self, *args, **options):
        self.created: Counter = Counter()
        self.existing_users: list[str] = []
        self.skipped: list[str] = []
        self.appointments: list[Appointment] = []
        with transaction.atomic():
            office = self.office = self._seed_firm_and_office()
            service_types = self._seed_service_types()
            technicians = self._seed_technicians(service_types)
            self._seed_closure()
            customers = self._seed_customers(office)
            self._seed_appointments(office, technicians, service_types, customers)
            self._seed_promises(office, customers)
        if self.created["appointments"]:
            # Fresh demo data shows a follow-up list at once; later the periodic task keeps it current.
            self.created["missed visits to follow up"] += missed_follow_ups_flag()
        self._print_summary()

    # Reference data -------------------------------------------------------------

    def _user(self, *, username: str, password: str, superuser: bool, **fields):
        User = get_user_model()
        user = User.objects.filter(username=username).first()
        if user is not None:
            self.existing_users.append(username)
            return user
        if superuser:
            user = User.objects.create_superuser(username=username, password=password, **fields)
        else:
            user = User.objects.create_user(username=username, password=password, is_staff=True, **fields)
        self.created["users"] += 1
        return user

    def _seed_firm_and_office(self):
        if not Firm.objects.exists():
            Firm.objects.create(**FIRM)
            self.created["firm"] += 1
        data = dict(OFFICE_USER)
        direct_phone = data.pop("direct_phone")
        office = self._user(password=OFFICE_PASSWORD, superuser=True, **data)
        if not OfficeProfile.objects.filter(user=office).exists():
            OfficeProfile.objects.create(user=office, direct_phone=direct_phone, direct_email=data["email"])
            self.created["office profiles"] += 1
        return office

    def _seed_service_types(self) -> dict[str, ServiceType]:
        result = {}
        for spec in SERVICE_TYPES:
            defaults = {key: value for key, value in spec.items() if key != "name"}
            service_type, created = ServiceType.objects.get_or_create(name=spec["name"], defaults=defaults)
            self.created["service types"] += created
            result[spec["name"]] = service_type
        return result

    def _seed_technicians(self, service_types: dict[str, ServiceType]) -> list[Technician]:
        technicians = []
        for spec in TECHNICIANS:
            user = self._user(
                username=spec["username"],
                password=TECH_PASSWORD,
                superuser=False,
                first_name=spec["first_name"],
                last_name=spec["last_name"],
                email=spec["email"],
            )
            technician = Technician.objects.filter(user=user).first()
            if technician is None:
                technician = Technician.objects.create(
                    user=user,
                    display_name=f"{spec['first_name']} {spec['last_name']}",
                    mobile_phone=spec["mobile_phone"],
                )
                technician.service_types.set([service_types[name] for name in spec["service_types"]])
                self.created["technicians"] += 1
            if not technician.working_periods.exists():
                for weekday in range(5):
                    for starts, ends in WORKING_HOURS:
                        WorkingPeriod.objects.create(technician=technician, weekday=weekday, starts=starts, ends=ends)
                        self.created["working periods"] += 1
            if spec["username"] == TIME_OFF_USERNAME and not technician.time_off.exists():
                today = timezone.localdate()
                next_wednesday = today + timedelta(days=7 - today.weekday() + 2)
                TimeOff.objects.create(
                    technician=technician,
                    starts_at=_aware(next_wednesday, time(12, 0)),
                    ends_at=_aware(next_wednesday, time(16, 30)),
                    reason=TIME_OFF_REASON,
                )
                self.created["time off"] += 1
            technicians.append(technician)
        return technicians

    def _seed_closure(self) -> None:
        if Closure.objects.exists():
            return
        day = timezone.localdate() + timedelta(days=DAYS_AHEAD + 1)
        day += timedelta(days=(4 - day.weekday()) % 7)
        Closure.objects.create(first_day=day, last_day=day, reason=CLOSURE_REASON)
        self.created["closures"] += 1

    def _seed_customers(self, office) -> list[Customer]:
        customers = []
        for full_name, email, phone, street, postcode, city, country, language, channel, notes in CUSTOMERS:
            customer = Customer.objects.filter(email=email).order_by("pk").first()
            if customer is None:
                customer = customer_create(
                    fields={
                        "full_name": full_name,
                        "email": email,
                        "phone": phone,
                        "street": street,
                        "postcode": postcode,
                        "city": city,
                        "country": country,
                        "preferred_language": language,
                        "preferred_channel": channel,
                        "responsible": office,
                        "notes": notes,
                    },
                    actor=office,
                )
                self.created["customers"] += 1
            customers.append(customer)
        return customers

    # Appointments ---------------------------------------------------------------

    def _seed_appointments(self, office, technicians, service_types, customers) -> None:
        if Appointment.objects.filter(customer__in=customers).exists():
            return
        rng = random.Random(SEED)
        now = timezone.now()
        today = timezone.localdate()
        visits = self._plan(rng, today, technicians, service_types, customers)
        # Every visit is booked before any is carried out: a visit done (no longer holding its slot) must not
        # let the next one of its window be planned at the same time.
        booked = []
        for visit in visits:
            try:
                with transaction.atomic():
                    booked.append((visit, self._book(visit, office, technicians, today)))
            except AppointmentError as exc:
                self.skipped.append(f"{visit.customer} {visit.slot.day} {visit.slot.half}: {exc.message}")
        for visit, appointment in booked:
            try:
                with transaction.atomic():
                    self.appointments.append(self._outcome(visit, appointment, office, technicians, today, now))
            except AppointmentError as exc:
                self.skipped.append(f"{visit.customer} {visit.slot.day} {visit.slot.half}: {exc.message}")
        self.created["appointments"] += len(self.appointments)

    def _slot_available(self, technician: Technician, slot: Slot) -> bool:
        starts, ends = SLOT_WINDOWS[slot.half]
        return not TimeOff.objects.filter(
            technician=technician, starts_at__lt=_aware(slot.day, ends), ends_at__gt=_aware(slot.day, starts)
        ).exists()

    def _plan(self, rng, today, technicians, service_types, customers) -> list[Visit]:
        """Decide every visit up front, so the random stream and thus the data depend only on the date."""
        # No visits on public holidays or closures, as on a real firm's calendar.
        closed = closed_days(today - timedelta(days=DAYS_BACK), today + timedelta(days=DAYS_AHEAD))
        days = [
            today + timedelta(days=offset)
            for offset in range(-DAYS_BACK, DAYS_AHEAD + 1)
            if (today + timedelta(days=offset)).weekday() < 5 and today + timedelta(days=offset) not in closed
        ]
        available = [
            Slot(day, index, half)
            for day in days
            for index, technician in enumerate(technicians)
            for half in ("am", "pm")
            if self._slot_available(technician, Slot(day, index, half))
        ]

        # Keep a few slots free: where a moved visit came from, and where a missed one goes. (Moves are
        # made as of now, and a visit cannot be moved into a window that has passed.)
        def take(candidates):
            if not candidates:
                return None
            chosen = rng.choice(candidates)
            available.remove(chosen)
            return chosen

        missed_target = take([s for s in available if s.day > today])
        moved_from_future = take([s for s in available if s.day > today])
        free = {(s.day, s.tech, s.half) for s in available}
        qualified = [set(t.service_types.values_list("name", flat=True)) for t in technicians]

        visits: list[Visit] = []
        installations = 0
        for day in days:
            for index in range(len(technicians)):
                whole_day = (day, index, "am") in free and (day, index, "pm") in free
                if (
                    whole_day
                    and day != today
                    and HEAT_PUMP in qualified[index]
                    and installations < 3
                    and rng.random() < 0.25
                ):
                    visits.append(Visit(Slot(day, index, "day"), service_types[HEAT_PUMP]))
                    installations += 1
                    continue
                for half in ("am", "pm"):
                    if (day, index, half) not in free or (day != today and rng.random() > 0.75):
                        continue
                    choices = [name for name in (BOILER, GAS) if name in qualified[index]]
                    if not choices:
                        continue
                    name = choices[0] if len(choices) == 1 or rng.random() < 0.6 else choices[1]
                    # A window holds several short visits one after another (the services plan them in order):
                    # a maintenance technician does five or six a day.
                    # Today's windows are full, so the board and My day show a real day at any hour.
                    extra = rng.choice([0, 1, 1, 2] if name == GAS else [0, 1])
                    for _ in range(1 + (3 if name == GAS else 1) if day == today else 1 + extra):
                        visits.append(Visit(Slot(day, index, half), service_types[name]))

        order = list(customers)
        rng.shuffle(order)
        for number, visit in enumerate(visits):
            visit.customer = order[number % len(order)]
            visit.notes = rng.choice(VISIT_NOTES)
            visit.trip_offset = rng.randint(-5, 10)
            visit.travel = rng.randint(12, 35)
            visit.overrun = rng.randint(-10, 25)
            visit.report = rng.choice(REPORTS.get(visit.service.name, ["Arbeiten erledigt."]))
            visit.missed_note = rng.choice(MISSED_NOTES)
            visit.cancel_reason = rng.choice(CANCEL_REASONS)
            chance = rng.random()
            day = visit.slot.day
            if day < today:
                if visit.slot.half == "day" or chance >= 0.22:
                    visit.outcome = "done"
                else:
                    visit.outcome = "missed" if chance < 0.12 else "cancelled"
            elif day == today:
                visit.outcome = "done"  # as far as the clock allows
            elif chance < 0.15:
                visit.outcome = "requested"
            elif chance < 0.28 and visit.slot.half != "day":
                visit.outcome = "cancelled"
            else:
                visit.outcome = "scheduled"

        # Whatever the dice said, the week ahead shows a request and a cancellation.
        for wanted in ("requested", "cancelled"):
            if not any(v.outcome == wanted for v in visits):
                spare = [v for v in visits if v.slot.day > today and v.slot.half != "day" and v.outcome == "scheduled"]
                if spare:
                    rng.choice(spare).outcome = wanted

        def pick(condition, after: date | None = None):
            candidates = [v for v in visits if v.slot.half != "day" and not v.moved_from and condition(v)]
            later = [v for v in candidates if after is not None and v.slot.day > after]
            return rng.choice(later or candidates) if candidates else None

        # Nobody home: a missed visit, rebooked for next week.
        if missed_target and (visit := pick(lambda v: v.slot.day < today and v.outcome in ("done", "missed"))):
            visit.outcome = "missed"
            visit.moved_to = missed_target
        # A coming visit pushed back because a part is late.
        if moved_from_future and (
            visit := pick(
                lambda v: v.slot.day > today and v.outcome in ("scheduled", "requested"), after=moved_from_future.day
            )
        ):
            visit.moved_from = moved_from_future
        return visits

    def _window_start(self, slot: Slot) -> datetime:
        return _aware(slot.day, SLOT_STARTS[slot.half])

    def _book(self, visit: Visit, office, technicians, today: date) -> Appointment:
        customer = visit.customer
        first = visit.moved_from or visit.slot
        appointment = appointment_schedule(
            customer=customer,
            service_type=visit.service,
            technician=technicians[first.tech],
            window_start=self._window_start(first),
            actor=office,
            notes=visit.notes,
            requested=visit.outcome == "requested",
            channel=Channel.WEB
            if visit.outcome == "requested"
            else CHANNEL_FOR_PREFERENCE.get(customer.preferred_channel, Channel.PHONE),
        )
        if visit.moved_from:
            appointment = appointment_reschedule(
                appointment=appointment,
                window_start=self._window_start(visit.slot),
                technician=technicians[visit.slot.tech],
                actor=office,
                reason=RESCHEDULE_LATER_REASONS[visit.slot.day > today]
                if self._window_start(visit.slot) > self._window_start(visit.moved_from)
                else RESCHEDULE_EARLIER_REASON,
                channel=Channel.PHONE,
            )
        return appointment

    def _outcome(self, visit: Visit, appointment: Appointment, office, technicians, today: date, now: datetime):
        if visit.outcome == "cancelled":
            return appointment_cancel(
                appointment=appointment,
                reason=visit.cancel_reason,
                actor=office,
                channel=Channel.PHONE,
                direction=Direction.INBOUND,
            )
        if visit.outcome == "missed":
            return self._miss(visit, appointment, technicians, now)
        if visit.outcome == "done":
            return self._carry_out(visit, appointment, now, live=visit.slot.day == today)
        return appointment

    def _miss(self, visit: Visit, appointment: Appointment, technicians, now: datetime) -> Appointment:
        technician_user = appointment.technician.user
        at_the_door = max(appointment.window_start, appointment.planned_start + timedelta(minutes=visit.trip_offset))
        trip = at_the_door - timedelta(minutes=visit.travel)
        if at_the_door > now:
            return appointment
        appointment = visit_start_trip(appointment=appointment, actor=technician_user, at=trip)
        appointment = visit_mark_missed(
            appointment=appointment,
            actor=technician_user,
            at=at_the_door,
            note=visit.missed_note,
            waited_minutes=5 + visit.travel % 10,
            card_left=True,
        )
        if visit.moved_to:
            appointment = appointment_reschedule(
                appointment=appointment,
                window_start=self._window_start(visit.moved_to),
                technician=technicians[visit.moved_to.tech],
                actor=self.office,
                reason=RESCHEDULE_MISSED_REASON,
                channel=Channel.PHONE,
            )
        return appointment

    def _carry_out(self, visit: Visit, appointment: Appointment, now: datetime, *, live: bool) -> Appointment:
        """Trip, arrival, completion, each only if its moment has passed; around the visit's planned slot."""
        technician_user = appointment.technician.user
        start, end = appointment.planned_start, appointment.occupied_until
        # The drive fits the buffer after the visit before, and the day keeps roughly to its plan.
        buffer_minutes = int(appointment.service_type.buffer_after.total_seconds() // 60)
        visit.travel = min(visit.travel, max(buffer_minutes, 10))
        visit.overrun = min(visit.overrun, 10)
        if live and start - timedelta(minutes=visit.travel) <= now < end:
            # Under way right now: one technician driving, the other at work.
            if visit.slot.tech % 2 == 0:
                trip, arrive = max(start - timedelta(minutes=20), now - timedelta(minutes=visit.travel)), None
            else:
                arrive = max(start, now - timedelta(minutes=45))
                trip = arrive - timedelta(minutes=visit.travel)
            complete = None
        else:
            trip = max(appointment.window_start, start + timedelta(minutes=visit.trip_offset)) - timedelta(
                minutes=visit.travel
            )
            arrive = trip + timedelta(minutes=visit.travel)
            complete = arrive + appointment.expected_duration + timedelta(minutes=visit.overrun)
        if trip > now:
            return appointment
        appointment = visit_start_trip(appointment=appointment, actor=technician_user, at=trip)
        if arrive is None or arrive > now:
            return appointment
        appointment = visit_arrive(appointment=appointment, actor=technician_user, at=arrive)
        if complete is None or complete > now:
            return appointment
        return visit_complete(appointment=appointment, actor=technician_user, at=complete, report=visit.report)

    # My desk ----------------------------------------------------------------------

    def _seed_promises(self, office, customers) -> None:
        """A live desk for `make run`: one promise overdue, two due later today, one next week, one tied to a visit
        (a later visit's: a call due the afternoon before, not adding to today's two). Each due on a quarter hour
        in office hours, as a clerk would promise; seeded after closing, "today" is the next office day."""
        if Promise.objects.filter(customer__in=customers).exists():
            return
        now = timezone.now()
        first, second = _later_today(now)
        in_a_week = office_quarter_at_or_after(_aware(timezone.localdate() + timedelta(days=7), time(10)))
        soonest = office_quarter_at_or_after(now + timedelta(hours=1))
        next_visit = (
            Appointment.objects.filter(
                customer__in=customers, status="scheduled", window_start__gt=now + timedelta(days=2)
            )
            .select_related("customer")
            .order_by("window_start")
            .first()
        )
        for index, kind, due, note in PROMISES:
            appointment = None
            if due == "before visit":
                if next_visit is None:
                    continue
                appointment = next_visit
                customer = next_visit.customer
                eve = timezone.localdate(next_visit.window_start) - timedelta(days=1)
                due_at = max(office_quarter_at_or_before(_aware(eve, time(16))), soonest)
                if due_at >= next_visit.window_start:
                    continue
            else:
                customer = customers[index]
                due_at = {
                    "overdue": office_quarter_at_or_before(now - timedelta(hours=3)),
                    "today 1": first,
                    "today 2": second,
                    "next week": in_a_week,
                }[due]
            promise_make(
                customer=customer,
                kind=kind,
                owner=office,
                due_at=due_at,
                appointment=appointment,
                note=note,
                actor=office,
            )
            self.created["promises"] += 1

    # Output -----------------------------------------------------------------------

    def _print_summary(self) -> None:
        write = self.stdout.write
        if not any(self.created.values()):
            write(self.style.SUCCESS("Demo data already present, nothing changed."))
        else:
            write(self.style.SUCCESS("Demo data created:"))
            for label in (
                "firm",
                "users",
                "office profiles",
                "service types",
                "technicians",
                "working periods",
                "time off",
                "closures",
                "customers",
            ):
                if self.created[label]:
                    write(f"  {label}: {self.created[label]}")
            if self.created["appointments"]:
                statuses = Counter(appointment.status for appointment in self.appointments)
                moved = sum(1 for appointment in self.appointments if appointment.version > 1)
                detail = ", ".join(f"{status} {count}" for status, count in sorted(statuses.items()))
                write(f"  appointments: {self.created['appointments']} ({detail}; {moved} rescheduled)")
            if self.created["promises"]:
                write(f"  promises on the office's desk (/desk/): {self.created['promises']}")
            if self.created["missed visits to follow up"]:
                write(f"  missed visits to follow up: {self.created['missed visits to follow up']}")
        for problem in self.skipped:
            self.stderr.write(f"Skipped a visit: {problem}")
        write(f"Office login: {OFFICE_USER['username']} / {OFFICE_PASSWORD}")
        write(
            "Technician logins (phone pages at /technician/): "
            + ", ".join(f"{spec['username']} / {TECH_PASSWORD}" for spec in TECHNICIANS)
        )
        if self.existing_users:
            write(f"(Users that already existed were left as they were: {', '.join(self.existing_users)}.)")

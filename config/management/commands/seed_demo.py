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

from appointments.models import Appointment, ServiceType, Technician, TimeOff, WorkingPeriod
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
from customers.models import Customer, Firm, OfficeProfile
from customers.services import customer_create
from journal.models import Channel, Direction

SEED = 4711
DAYS_BACK = 7
DAYS_AHEAD = 7

OFFICE_PASSWORD = "doorstep-office"
TECH_PASSWORD = "doorstep-tech"
FIRM_DOMAIN = "haustechnik-brinkmann.example"

FIRM = {
    "name": "Haustechnik Brinkmann GmbH",
    "email": f"info@{FIRM_DOMAIN}",
    "phone": "+49 2821 71930",
    "street": "Flutstraße 52",
    "postcode": "47533",
    "city": "Kleve",
    "website": f"https://www.{FIRM_DOMAIN}",
}

OFFICE_USER = {
    "username": "office",
    "first_name": "Sandra",
    "last_name": "Brinkmann",
    "email": f"s.brinkmann@{FIRM_DOMAIN}",
    "direct_phone": "+49 2821 719312",
}

BOILER, GAS, HEAT_PUMP = "Boiler maintenance", "Gas safety check", "Heat pump installation"

SERVICE_TYPES = [
    {
        "name": BOILER,
        "name_de": "Heizungswartung",
        "name_nl": "CV-ketel onderhoud",
        "duration": timedelta(hours=1),
        "arrival_window": timedelta(hours=4),
        "buffer_after": timedelta(minutes=30),
    },
    {
        "name": GAS,
        "name_de": "Gas-Sicherheitsprüfung",
        "name_nl": "Gasveiligheidscontrole",
        "duration": timedelta(minutes=45),
        "arrival_window": timedelta(hours=4),
        "buffer_after": timedelta(minutes=15),
    },
    {
        "name": HEAT_PUMP,
        "name_de": "Wärmepumpen-Installation",
        "name_nl": "Installatie warmtepomp",
        "duration": timedelta(hours=6),
        "arrival_window": timedelta(hours=2),
        "buffer_after": timedelta(hours=1),
    },
]

TECHNICIANS = [
    {
        "username": "tech.jan",
        "first_name": "Jan",
        "last_name": "Verhaag",
        "email": f"j.verhaag@{FIRM_DOMAIN}",
        "mobile_phone": "+49 151 40718263",
        "service_types": [BOILER, GAS, HEAT_PUMP],
    },
    {
        "username": "tech.mia",
        "first_name": "Mia",
        "last_name": "Kempkes",
        "email": f"m.kempkes@{FIRM_DOMAIN}",
        "mobile_phone": "+49 160 9182736",
        "service_types": [BOILER, GAS],
    },
]

# Monday to Friday, with a half-hour lunch break.
WORKING_HOURS = [(time(7, 30), time(12, 0)), (time(12, 30), time(16, 30))]

# Mia is away on a half-day course next Wednesday afternoon.
TIME_OFF_USERNAME = "tech.mia"
TIME_OFF_REASON = "Schulung Wärmepumpentechnik (Handwerkskammer)"

# full_name, email, phone, street, postcode, city, country, language, channel, notes
# fmt: off
CUSTOMERS = [
    ("Klaus Hendricks", "klaus.hendricks@example.com", "+49 2821 24817", "Hagsche Straße 34", "47533", "Kleve",
     "DE", "de", "email", ""),
    ("Monika van de Loo", "monika.vandeloo@example.com", "+49 151 24718365", "Lindenallee 12", "47533", "Kleve",
     "DE", "de", "email", ""),
    ("Heinz Janssen", "h.janssen@example.com", "+49 2821 31562", "Kavarinerstraße 51", "47533", "Kleve",
     "DE", "de", "letter", "Hört schlecht – bitte lange klingeln."),
    ("Ursula Terhorst", "ursula.terhorst@example.com", "+49 2822 71934", "Steinstraße 8", "46446",
     "Emmerich am Rhein", "DE", "de", "phone", ""),
    ("Peter Verhoeven", "peter.verhoeven@example.com", "+49 170 5523891", "'s-Heerenberger Straße 112", "46446",
     "Emmerich am Rhein", "DE", "de", "email", ""),
    ("Brigitte Schmitz", "brigitte.schmitz@example.com", "+49 2823 41827", "Voßstraße 17", "47574", "Goch",
     "DE", "de", "phone", ""),
    ("Thomas Derksen", "thomas.derksen@example.com", "+49 160 4417283", "Klever Straße 89", "47574", "Goch",
     "DE", "de", "email", "Gas-Brennwerttherme im Dachboden."),
    ("Sabine Kersting", "sabine.kersting@example.com", "+49 2824 50931", "Monrestraße 5", "47546", "Kalkar",
     "DE", "de", "email", ""),
    ("Wilhelm Tebest", "wilhelm.tebest@example.com", "+49 2826 91477", "Große Straße 41", "47559", "Kranenburg",
     "DE", "de", "letter", "Schlüssel bei der Nachbarin, Frau Evers (Nr. 43)."),
    ("Gisela Hövelmann", "gisela.hoevelmann@example.com", "+49 2821 89214", "Uedemer Straße 160", "47551",
     "Bedburg-Hau", "DE", "de", "phone", ""),
    ("Stefan Arntz", "stefan.arntz@example.com", "+49 151 63829174", "Tiergartenstraße 66", "47533", "Kleve",
     "DE", "de", "email", ""),
    ("Andrea Giesen", "andrea.giesen@example.com", "+49 2851 58833", "Dellstraße 22", "46459", "Rees",
     "DE", "de", "email", ""),
    ("Jürgen Elsinghorst", "juergen.elsinghorst@example.com", "+49 2822 53107", "Wassenbergstraße 3", "46446",
     "Emmerich am Rhein", "DE", "de", "phone", "Hund im Garten, bitte vorne klingeln."),
    ("Karin Peters", "karin.peters@example.com", "+49 2837 19236", "Wasserstraße 14", "47652", "Weeze",
     "DE", "de", "email", ""),
    ("Michael Wolters", "michael.wolters@example.com", "+49 176 31245876", "Nassauerallee 29", "47533", "Kleve",
     "DE", "de", "email", "Interessiert an Wärmepumpe, Angebot aus dem Frühjahr."),
    ("Renate Hüsges", "renate.huesges@example.com", "+49 2825 93118", "Mosterstraße 7", "47589", "Uedem",
     "DE", "de", "letter", ""),
    ("Frank Lamers", "frank.lamers@example.com", "+49 157 38192745", "Bahnhofstraße 30", "47574", "Goch",
     "DE", "de", "email", ""),
    ("Elke Bruns", "elke.bruns@example.com", "+49 2824 96022", "Altkalkarer Straße 18", "47546", "Kalkar",
     "DE", "de", "phone", ""),
    ("Dieter Kuypers", "dieter.kuypers@example.com", "+49 2826 5361", "Klever Straße 102", "47559", "Kranenburg",
     "DE", "de", "phone", ""),
    ("Christa Wilmsen", "christa.wilmsen@example.com", "+49 2821 17735", "Emmericher Straße 188", "47533", "Kleve",
     "DE", "de", "email", ""),
    ("Markus Schoofs", "markus.schoofs@example.com", "+49 172 8364019", "Kaßstraße 15", "46446",
     "Emmerich am Rhein", "DE", "de", "email", ""),
    ("Petra Evers", "petra.evers@example.com", "+49 2826 91488", "Große Straße 43", "47559", "Kranenburg",
     "DE", "de", "email", ""),
    ("Norbert Hermsen", "norbert.hermsen@example.com", "+49 2832 23447", "Hauptstraße 61", "47623", "Kevelaer",
     "DE", "de", "phone", "Vermieter; Mieterin Frau Kamps öffnet."),
    ("Anja Bollen", "anja.bollen@example.com", "+49 152 29173648", "Hoffmannallee 45", "47533", "Kleve",
     "DE", "de", "email", ""),
    ("Hildegard Thissen", "hildegard.thissen@example.com", "+49 2823 3108", "Gaesdoncker Straße 9", "47574", "Goch",
     "DE", "de", "letter", "Bitte am Vortag auf dem Festnetz anrufen."),
    ("Sebastian Kühn", "sebastian.kuehn@example.com", "+49 173 4471920", "Gruftstraße 2", "47533", "Kleve",
     "DE", "de", "email", ""),
    ("Johan de Vries", "johan.devries@example.net", "+31 6 28471936", "Zyfflicher Straße 7", "47559", "Kranenburg",
     "DE", "nl", "email", "Wohnt seit 2019 in Kranenburg, spricht lieber Niederländisch."),
    ("Anouk Jansen", "anouk.jansen@example.net", "+31 24 3234567", "Groesbeekseweg 212", "6524 DM", "Nijmegen",
     "NL", "nl", "email", ""),
    ("Gerrit van den Berg", "gerrit.vandenberg@example.net", "+31 24 3971234", "Berg en Dalseweg 88", "6522 BV",
     "Nijmegen", "NL", "nl", "phone", ""),
    ("Marieke Bakker", "marieke.bakker@example.net", "+31 6 41938275", "Dorpsstraat 19", "6561 CA", "Groesbeek",
     "NL", "nl", "email", ""),
    ("Sander Willemsen", "sander.willemsen@example.net", "+31 314 661234", "Emmerikseweg 45", "7041 AE",
     "'s-Heerenberg", "NL", "nl", "email", ""),
    ("Femke Hendriks", "femke.hendriks@example.net", "+31 316 523344", "Kerkstraat 27", "6901 AG", "Zevenaar",
     "NL", "nl", "phone", ""),
    ("Ruud Verbeek", "ruud.verbeek@example.net", "+31 481 431276", "Heerbaan 52", "6566 EM",
     "Millingen aan de Rijn", "NL", "nl", "email", ""),
    ("Ingrid van Dijk", "ingrid.vandijk@example.net", "+31 485 512398", "Zandstraat 11", "6591 DE", "Gennep",
     "NL", "nl", "letter", ""),
    ("Bas Peters", "bas.peters@example.net", "+31 6 19283746", "Hatertseweg 301", "6533 GX", "Nijmegen",
     "NL", "nl", "email", ""),
    ("Lotte Smits", "lotte.smits@example.net", "+31 6 53817294", "Eltener Markt 4", "46446", "Emmerich am Rhein",
     "DE", "nl", "email", ""),
    ("Sarah Mitchell", "sarah.mitchell@example.org", "+49 151 72836154", "Lindenallee 71", "47533", "Kleve",
     "DE", "en", "email", "Spricht kaum Deutsch, bitte auf Englisch."),
    ("David Thompson", "david.thompson@example.org", "+49 2823 926614", "Weezer Straße 40", "47574", "Goch",
     "DE", "en", "phone", ""),
    ("Emma Clarke", "emma.clarke@example.org", "+31 6 21829304", "Sint Annastraat 140", "6524 GH", "Nijmegen",
     "NL", "en", "email", ""),
    ("James O'Connor", "james.oconnor@example.org", "+49 2821 592038", "Landwehr 12", "47533", "Kleve",
     "DE", "en", "email", ""),
]
# fmt: on

VISIT_NOTES = [
    "",
    "",
    "",
    "Bitte 30 Minuten vorher anrufen.",
    "Heizungsraum im Keller, Zugang über die Garage.",
    "Parken im Hof möglich.",
    "Therme zeigt Störung F28.",
    "Wartungsvertrag, jährlicher Termin.",
    "Kunde ist nur vormittags zu Hause.",
]
REPORTS = {
    BOILER: [
        "Brenner gereinigt, Abgaswerte in Ordnung.",
        "Wärmetauscher gereinigt, Zündelektrode ersetzt.",
        "Anlagendruck auf 1,8 bar nachgefüllt, Ausdehnungsgefäß geprüft.",
        "Wartung ohne Befund.",
    ],
    GAS: [
        "Gasleitung dicht, Prüfprotokoll hinterlassen.",
        "Gebrauchsfähigkeit bestätigt, Absperrhahn Küche erneuert.",
        "Prüfung ohne Mängel.",
    ],
    HEAT_PUMP: [
        "Außeneinheit gesetzt, Hydraulik angeschlossen, Inbetriebnahme erfolgt.",
        "Wärmepumpe installiert und eingewiesen; Restarbeiten Elektrik nächste Woche.",
    ],
}
MISSED_NOTES = [
    "Zweimal geklingelt, Karte eingeworfen.",
    "Niemand geöffnet, Nachbarn wussten nichts. Karte im Briefkasten.",
    "Tor verschlossen, telefonisch nicht erreichbar.",
]
CANCEL_REASONS = [
    "Kunde hat telefonisch abgesagt: Heizung läuft wieder.",
    "Kunde ist krank und meldet sich für einen neuen Termin.",
    "Kunde verreist, Termin wird nach den Ferien nachgeholt.",
    "Wartung bereits über die Hausverwaltung erledigt.",
]
RESCHEDULE_LATER_REASONS = ["Kunde bat um einen späteren Termin.", "Ersatzteil wird erst später geliefert."]
RESCHEDULE_EARLIER_REASON = "Kunde bat um einen früheren Termin; Lücke im Plan genutzt."
RESCHEDULE_MISSED_REASON = "Nicht angetroffen; neuer Termin telefonisch vereinbart."

# Arrival windows start here; with 4-hour windows a technician has a morning and an
# afternoon visit, and a heat pump installation takes the whole day.
SLOT_STARTS = {"am": time(8, 0), "pm": time(12, 30), "day": time(8, 0)}
SLOT_WINDOWS = {"am": (time(8, 0), time(12, 0)), "pm": (time(12, 30), time(16, 30))}
CHANNEL_FOR_PREFERENCE = {"email": Channel.EMAIL, "phone": Channel.PHONE, "letter": Channel.PHONE}


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
    trip_offset: int = 0  # minutes after the window starts
    travel: int = 20  # minutes on the road
    overrun: int = 0  # minutes longer than the expected duration
    report: str = ""
    missed_note: str = ""
    cancel_reason: str = ""


def _aware(day: date, at: time) -> datetime:
    return timezone.make_aware(datetime.combine(day, at))


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
            customers = self._seed_customers(office)
            self._seed_appointments(office, technicians, service_types, customers)
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
        for visit in visits:
            try:
                with transaction.atomic():
                    self.appointments.append(self._book(visit, office, technicians, today, now))
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
        days = [
            today + timedelta(days=offset)
            for offset in range(-DAYS_BACK, DAYS_AHEAD + 1)
            if (today + timedelta(days=offset)).weekday() < 5
        ]
        available = [
            Slot(day, index, half)
            for day in days
            for index, technician in enumerate(technicians)
            for half in ("am", "pm")
            if self._slot_available(technician, Slot(day, index, half))
        ]

        # Keep a few slots free: where moved visits came from, and where a missed one goes.
        def take(candidates):
            if not candidates:
                return None
            chosen = rng.choice(candidates)
            available.remove(chosen)
            return chosen

        missed_target = take([s for s in available if s.day > today])
        moved_from_past = take([s for s in available if s.day < today])
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
                    visits.append(Visit(Slot(day, index, half), service_types[name]))

        order = list(customers)
        rng.shuffle(order)
        for number, visit in enumerate(visits):
            visit.customer = order[number % len(order)]
            visit.notes = rng.choice(VISIT_NOTES)
            window_minutes = int(visit.service.arrival_window.total_seconds() // 60)
            visit.trip_offset = rng.randint(-10, max(0, int(window_minutes * 0.6)))
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

        # A past visit the customer had moved to a later day, then done.
        if moved_from_past and (
            visit := pick(lambda v: v.slot.day < today and v.outcome == "done", after=moved_from_past.day)
        ):
            visit.moved_from = moved_from_past
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

    def _book(self, visit: Visit, office, technicians, today: date, now: datetime) -> Appointment:
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
        trip = appointment.window_start + timedelta(minutes=max(0, visit.trip_offset))
        at_the_door = trip + timedelta(minutes=visit.travel)
        if at_the_door > now:
            return appointment
        appointment = visit_start_trip(appointment=appointment, actor=technician_user, at=trip)
        appointment = visit_mark_missed(
            appointment=appointment, actor=technician_user, at=at_the_door, note=visit.missed_note
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
        """Trip, arrival, completion, each only if its moment has passed."""
        technician_user = appointment.technician.user
        start, end = appointment.window_start, appointment.window_end
        if live and start <= now < end:
            # Under way right now: one technician driving, the other at work.
            if visit.slot.tech % 2 == 0:
                trip, arrive = max(start - timedelta(minutes=20), now - timedelta(minutes=visit.travel)), None
            else:
                arrive = max(start, now - timedelta(minutes=45))
                trip = arrive - timedelta(minutes=visit.travel)
            complete = None
        else:
            trip = start + timedelta(minutes=visit.trip_offset)
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
                "customers",
            ):
                if self.created[label]:
                    write(f"  {label}: {self.created[label]}")
            if self.created["appointments"]:
                statuses = Counter(appointment.status for appointment in self.appointments)
                moved = sum(1 for appointment in self.appointments if appointment.version > 1)
                detail = ", ".join(f"{status} {count}" for status, count in sorted(statuses.items()))
                write(f"  appointments: {self.created['appointments']} ({detail}; {moved} rescheduled)")
        for problem in self.skipped:
            self.stderr.write(f"Skipped a visit: {problem}")
        write(f"Office login: {OFFICE_USER['username']} / {OFFICE_PASSWORD}")
        write("Technician logins: " + ", ".join(f"{spec['username']} / {TECH_PASSWORD}" for spec in TECHNICIANS))
        if self.existing_users:
            write(f"(Users that already existed were left as they were: {', '.join(self.existing_users)}.)")

"""`make bench`: admin timings and query counts on a large synthetic data set.

Builds a throw-away database (10,000 customers and 100,000 appointments by
default), then requests the office's busiest admin pages (and the dispatch board's
day on its busiest date, week and "find a time") over HTTP from a server thread and prints, for each,
the median and p90 time, the number of queries and the ratio to a minimal
Django view measured in the same run (and the CPU ratios, over HTTP and in-process). Machines differ and CI runners are
noisy, so only the ratios are comparable from one run to the next.

    .venv/bin/python bench/run.py                                   # full size, SQLite in a temp dir
    .venv/bin/python bench/run.py --customers 1000 --appointments 10000   # quick
    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/doorstep_bench .venv/bin/python bench/run.py

Each database is measured twice, at this size and at 1,000 appointments, and the
appointment list is shown against its target at both: at most 30x the baseline,
and the same number of queries whatever the size. SQLite always; with
DATABASE_URL (or BENCH_DATABASE_URL) on PostgreSQL, there too.

Exits non-zero when a page does not answer 200, does not show what it should,
runs more queries than --max-queries (the usual sign of an N+1 query), or the
appointment list runs more queries at the larger size (a ratio over target is
reported: timings are as noisy as the machine).
"""

import argparse
import json
import math
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from html import escape
from pathlib import Path
from urllib.parse import urlencode

BASE_DIR = Path(__file__).resolve().parent.parent
# `python bench/run.py` puts bench/ on the path, not the project.
sys.path.insert(0, str(BASE_DIR))

from timing import timed_calls  # noqa: E402  (bench/timing.py)

# A page running more queries than this almost certainly queries once per row.
DEFAULT_MAX_QUERIES = 30
# The appointment list's target (issue #10): at most this many times the baseline, at any size,
# with the same queries at 1,000 rows as at 100,000.
TARGET_RATIO = 30
TARGET_PAGES = ("appointment changelist", "appointments: this week", "appointments: status=scheduled")
SMALL_SIZE = {"customers": 100, "appointments": 1_000, "journal": 1_000}
# The dispatch board's day view (issue #11) on the day with the most planned visits: at most this many
# times the baseline, with the same queries at any size.
BOARD_PAGE = "board: busiest day"
BOARD_TARGET_RATIO = 20


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--appointments", type=int, default=100_000)
    parser.add_argument(
        "--journal", type=int, default=None, help="journal entries to create (default: as many as appointments)"
    )
    parser.add_argument("--technicians", type=int, default=10)
    parser.add_argument("--runs", type=int, default=15, help="timed requests per page (default 15)")
    parser.add_argument("--warmups", type=int, default=2, help="untimed requests per page first (default 2)")
    parser.add_argument("--seed", type=int, default=20260101, help="random seed: same seed, same data set")
    parser.add_argument("--max-queries", type=int, default=DEFAULT_MAX_QUERIES)
    parser.add_argument(
        "--explain",
        action="store_true",
        help="print the query plan of the slowest query of each page that is over 20x the baseline",
    )
    parser.add_argument("--keep", action="store_true", help="keep the SQLite temp dir and print where it is")
    parser.add_argument(
        "--single",
        action="store_true",
        help="one run in this process: the database of BENCH_DATABASE_URL (else SQLite), this size only",
    )
    parser.add_argument("--json-out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.journal is None:
        args.journal = args.appointments
    if args.customers < 10 or args.appointments < 10 or args.technicians < 1 or args.runs < 1:
        parser.error("need at least 10 customers, 10 appointments, 1 technician and 1 run")
    return args


# Database -------------------------------------------------------------------


def prepare_environment() -> Path:
    """Point the settings at a database of the bench's own, before Django reads them.

    Returns the temp dir that holds the SQLite file, the Celery broker file
    and static files, so nothing lands in the developer's var/.
    """
    database_url = os.environ.get("BENCH_DATABASE_URL", "")
    if database_url:
        recreate_postgres_database(database_url)
        os.environ["DATABASE_URL"] = database_url
    else:
        # Unset, the settings fall back to a SQLite file in DOORSTEP_VAR_DIR.
        os.environ.pop("DATABASE_URL", None)
    var_dir = Path(tempfile.mkdtemp(prefix="doorstep-bench-"))
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings_test"
    os.environ["DOORSTEP_VAR_DIR"] = str(var_dir)
    # Production settings: a developer's exported DEBUG=1 would time the
    # debug stack (query log, non-manifest static files) instead.
    os.environ["DEBUG"] = ""
    return var_dir


def recreate_postgres_database(database_url: str) -> None:
    """Start from an empty database: the previous run's rows would skew every figure."""
    import dj_database_url
    import psycopg
    from psycopg import sql

    config = dj_database_url.parse(database_url)
    if config["ENGINE"] != "django.db.backends.postgresql":
        sys.exit(f"BENCH_DATABASE_URL must be a postgres:// URL, not {config['ENGINE']}")
    name = config["NAME"]
    # The database is dropped; a name with "bench" in it guards against
    # pointing the bench at the real DATABASE_URL by mistake.
    if "bench" not in name:
        sys.exit(f"Refusing to drop database {name!r}: the bench database's name must contain 'bench'.")
    with psycopg.connect(
        host=config["HOST"] or None,
        port=config["PORT"] or None,
        user=config["USER"] or None,
        password=config["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
    ) as connection:
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def describe_database() -> str:
    from django.db import connection

    if connection.vendor == "sqlite":
        import sqlite3

        return f"SQLite {sqlite3.sqlite_version} ({connection.settings_dict['NAME']})"
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        version = cursor.fetchone()[0]
    return f"PostgreSQL {version} (database {connection.settings_dict['NAME']})"


# Synthetic data ---------------------------------------------------------------

FIRST_NAMES = [
    "Anna", "Andreas", "Birgit", "Bernd", "Claudia", "Christian", "Doris", "Daniel", "Elke", "Frank", "Gabriele",
    "Günter", "Heike", "Hans", "Ingrid", "Jürgen", "Julia", "Klaus", "Katrin", "Lukas", "Monika", "Michael",
    "Nicole", "Norbert", "Petra", "Peter", "Renate", "Ralf", "Sabine", "Stefan", "Tanja", "Thomas", "Ursula",
    "Uwe", "Vanessa", "Volker", "Wolfgang", "Yvonne", "Zoe", "Jörg",
]  # fmt: skip
SURNAMES = [
    "Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz", "Hoffmann",
    "Schäfer", "Koch", "Bauer", "Richter", "Klein", "Wolf", "Schröder", "Neumann", "Schwarz", "Zimmermann",
    "Braun", "Krüger", "Hofmann", "Hartmann", "Lange", "Schmitt", "Werner", "Schmitz", "Krause", "Meier",
    "Lehmann", "Schmid", "Schulze", "Maier", "Köhler", "Herrmann", "König", "Walter", "Mayer", "Huber",
    "Kaiser", "Fuchs", "Peters", "Lang", "Scholz", "Möller", "Weiß", "Jung", "Hahn", "Schubert", "Vogel",
    "Friedrich", "Keller", "Günther", "Frank", "Berger", "Winkler", "Roth", "Beck", "Lorenz", "Baumann",
    "Franke", "Albrecht", "Schuster", "Simon", "Ludwig", "Böhm", "Winter", "Kraus", "Martin", "Schumacher",
    "Krämer", "Vogt", "Stein", "Jäger", "Otto", "Sommer", "Groß", "Seidel", "Heinrich", "Brandt", "Haas",
    "Schreiber", "Graf", "Schulte", "Dietrich", "Ziegler", "Kuhn", "Kühn", "Pohl", "Engel", "Horn", "Busch",
    "Bergmann", "Thomas", "Voigt", "Sauer", "Arnold", "Wolff", "Pfeiffer", "van den Berg", "de Vries", "Janssen",
]  # fmt: skip
STREETS = [
    "Hauptstraße", "Schulstraße", "Gartenstraße", "Bahnhofstraße", "Dorfstraße", "Bergstraße", "Lindenstraße",
    "Kirchstraße", "Waldstraße", "Ringstraße", "Mühlenweg", "Am Markt", "Rosenweg", "Birkenweg", "Goethestraße",
]  # fmt: skip
# (city, postcode prefix, landline area code); no area code is a prefix of another, so numbers stay unique.
GERMAN_CITIES = [
    ("Berlin", "10", "30"), ("Hamburg", "20", "40"), ("München", "80", "89"), ("Köln", "50", "221"),
    ("Düsseldorf", "40", "211"), ("Frankfurt am Main", "60", "69"), ("Stuttgart", "70", "711"),
    ("Leipzig", "04", "341"), ("Dortmund", "44", "231"), ("Essen", "45", "201"), ("Bremen", "28", "421"),
    ("Dresden", "01", "351"), ("Hannover", "30", "511"), ("Nürnberg", "90", "911"), ("Kleve", "47", "2821"),
]  # fmt: skip
MOBILE_PREFIX = "151"
DUTCH_CITIES = [("Nijmegen", "65", "24"), ("Arnhem", "68", "26")]
# Customers on a postcode: roughly customers / (cities * this), a realistic street-level spread.
POSTCODES_PER_CITY = 60

# Appointments run from 18 months ago to 6 months ahead, like a firm with history and a full diary.
HISTORY = timedelta(days=548)
DIARY_AHEAD = timedelta(days=182)
# One customer gets an appointment this often, so the change page shows a long history and timeline.
HEAVY_CUSTOMER_EVERY = 400


@dataclass
class Dataset:
    office_user_id: int
    heavy_customer_id: int
    appointment_id: int
    build_seconds: float
    row_counts: dict[str, int] = field(default_factory=dict)
    status_counts: dict[str, int] = field(default_factory=dict)


def batched(items, size: int):
    for start in range(0, len(items), size):
        yield items[start : start + size]


def build_dataset(args: argparse.Namespace) -> Dataset:
    """Bulk-insert the rows directly: the services' rules and journal writes would take an hour at this size."""
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction

    started = time.perf_counter()
    rng = random.Random(args.seed)
    with transaction.atomic():
        office_user, responsibles = create_office(get_user_model())
        service_types, technicians = create_technicians(get_user_model(), args, rng)
        customers = create_customers(args, rng, responsibles)
        heavy_customer = customers[0]
        appointment_id = create_appointments(args, rng, customers, heavy_customer, technicians, service_types)
        create_journal(args, rng, office_user)
    if connection.vendor == "postgresql":
        # Autovacuum would vacuum and analyze the fresh tables within minutes in production (inserts
        # alone trigger it since PostgreSQL 13): without statistics the planner's guesses would not be
        # production's, and without the visibility map a COUNT(*) could never read an index alone
        # (the appointment list's count: 17 ms by the table, 5-8 ms by an index at 100,000 rows).
        # SQLite gets no ANALYZE: Django never runs one, so production has no statistics either.
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    dataset = Dataset(
        office_user_id=office_user.pk,
        heavy_customer_id=heavy_customer["id"],
        appointment_id=appointment_id,
        build_seconds=time.perf_counter() - started,
    )
    count_rows(dataset)
    return dataset


def create_office(User):
    from customers.models import Firm, OfficeProfile

    Firm.objects.create(name="Haustechnik Bench GmbH", email="office@bench.example", phone="+492821100000")
    office_user = User.objects.create_superuser(
        "bench-office", "office@bench.example", "bench-password", first_name="Olga", last_name="Office"
    )
    colleagues = [
        User.objects.create_user(
            f"bench-office{n}", f"office{n}@bench.example", first_name=first, last_name=last, is_staff=True
        )
        for n, (first, last) in enumerate([("Paula", "Planer"), ("Dirk", "Disponent")], start=1)
    ]
    responsibles = [office_user, *colleagues]
    OfficeProfile.objects.bulk_create(
        OfficeProfile(user=user, direct_phone=f"+49282110000{n}") for n, user in enumerate(responsibles, start=1)
    )
    return office_user, responsibles


def create_technicians(User, args, rng):
    from appointments.models import ServiceType, Technician, WorkingPeriod

    service_types = ServiceType.objects.bulk_create(
        [
            ServiceType(
                name="Boiler maintenance",
                name_de="Heizungswartung",
                name_nl="CV-onderhoud",
                duration=timedelta(hours=1),
                arrival_window=timedelta(hours=4),
                buffer_after=timedelta(minutes=30),
            ),
            ServiceType(
                name="Leak repair",
                name_de="Leckreparatur",
                name_nl="Lekreparatie",
                duration=timedelta(minutes=75),
                arrival_window=timedelta(hours=2),
                buffer_after=timedelta(minutes=15),
            ),
            ServiceType(
                name="Radiator check",
                name_de="Heizkörperprüfung",
                name_nl="Radiatorcontrole",
                duration=timedelta(minutes=30),
                arrival_window=timedelta(hours=1),
                buffer_after=timedelta(minutes=15),
            ),
        ]
    )
    users = []
    for n in range(args.technicians):
        user = User(
            username=f"bench-tech{n}",
            first_name=rng.choice(FIRST_NAMES),
            last_name=rng.choice(SURNAMES),
            email=f"tech{n}@bench.example",
            is_staff=True,
        )
        user.set_unusable_password()
        users.append(user)
    User.objects.bulk_create(users)
    users = list(User.objects.filter(username__startswith="bench-tech").order_by("id"))
    Technician.objects.bulk_create(
        Technician(user=user, display_name=f"{user.first_name} {user.last_name}", mobile_phone=f"+49170{2000000 + n}")
        for n, user in enumerate(users)
    )
    technicians = list(Technician.objects.order_by("id"))
    Technician.service_types.through.objects.bulk_create(
        Technician.service_types.through(technician=technician, servicetype=service_type)
        for technician in technicians
        for service_type in service_types
    )
    WorkingPeriod.objects.bulk_create(
        WorkingPeriod(technician=technician, weekday=weekday, starts="07:30", ends="16:30")
        for technician in technicians
        for weekday in range(5)
    )
    return service_types, technicians


def create_customers(args, rng, responsibles) -> list[dict]:
    """Customers with varied names, street-level postcodes and unique E.164 phones; returns them as dicts."""
    from customers.models import Country, Customer, Language, PreferredChannel

    rows = []
    for n in range(args.customers):
        first, last = rng.choice(FIRST_NAMES), rng.choice(SURNAMES)
        dutch = rng.random() < 0.05
        city, postcode_prefix, area_code = rng.choice(DUTCH_CITIES if dutch else GERMAN_CITIES)
        if dutch:
            postcode = f"{postcode_prefix}{rng.randrange(10, 10 + POSTCODES_PER_CITY)} {rng.choice('ABCDEFGH')}K"
            phone = f"+31{area_code}{1000000 + n}"
        else:
            postcode = f"{postcode_prefix}{rng.randrange(100, 100 + POSTCODES_PER_CITY):03d}"
            # The running number n keeps every phone unique; a fifth of customers gave a mobile.
            phone = f"+49{MOBILE_PREFIX if rng.random() < 0.2 else area_code}{1000000 + n}"
        if rng.random() < 0.05:
            phone = ""
        rows.append(
            Customer(
                full_name=f"{first} {last}",
                email="" if rng.random() < 0.1 else f"{first}.{last}.{n}@example.de".lower().replace(" ", ""),
                phone=phone,
                street=f"{rng.choice(STREETS)} {rng.randrange(1, 180)}",
                postcode=postcode,
                city=city,
                country=Country.NETHERLANDS if dutch else Country.GERMANY,
                preferred_language=Language.DUTCH if dutch else rng.choice([Language.GERMAN] * 9 + [Language.ENGLISH]),
                preferred_channel=rng.choice([PreferredChannel.EMAIL] * 6 + [PreferredChannel.PHONE] * 3
                                             + [PreferredChannel.LETTER]),
                responsible=rng.choice(responsibles),
            )
        )  # fmt: skip
    for batch in batched(rows, 2000):
        Customer.objects.bulk_create(batch, batch_size=500)
    return list(Customer.objects.order_by("id").values("id", "street", "postcode", "city", "country"))


def create_appointments(args, rng, customers, heavy_customer, technicians, service_types) -> int:
    """Sequential, non-overlapping slots per technician over the whole period; statuses as time has left them.

    Returns the id of an upcoming appointment for the change page.
    """
    from django.utils import timezone

    from appointments.models import Appointment, AppointmentStatus

    now = timezone.now().replace(second=0, microsecond=0)
    period_start = (now - HISTORY).replace(minute=0)
    per_technician = math.ceil(args.appointments / len(technicians))
    # Each technician's appointments sit one slot apart, so none overlaps the next
    # (the exclusion constraint on PostgreSQL would refuse an overlap).
    slot = timedelta(minutes=((HISTORY + DIARY_AHEAD) / per_technician) // timedelta(minutes=1))
    fitting = [service for service in service_types if service.duration + service.buffer_after <= slot]
    if not fitting:
        sys.exit(f"{args.appointments} appointments do not fit {len(technicians)} technicians; add --technicians.")

    batch = []
    for index in range(args.appointments):
        technician = technicians[index % len(technicians)]
        position = index // len(technicians)
        # Technicians' diaries are offset from one another, like real ones.
        window_start = period_start + slot * position + slot * (index % len(technicians)) / len(technicians)
        window_start = window_start.replace(second=0, microsecond=0)
        service = rng.choice(fitting)
        window_end = window_start + min(service.arrival_window, slot)
        customer = heavy_customer if index % HEAVY_CUSTOMER_EVERY == 0 else rng.choice(customers)
        status, stamps = appointment_status(rng, window_start, window_end, service, now)
        batch.append(
            Appointment(
                customer_id=customer["id"],
                technician=None if status == AppointmentStatus.REQUESTED and rng.random() < 0.5 else technician,
                service_type=service,
                site_street=customer["street"],
                site_postcode=customer["postcode"],
                site_city=customer["city"],
                site_country=customer["country"],
                window_start=window_start,
                window_end=window_end,
                expected_duration=service.duration,
                # Planned at the window's start, busy for the job and its buffer (appointments.planning).
                planned_start=window_start,
                occupied_until=window_start + service.duration + service.buffer_after,
                status=status,
                notes="Hund im Garten." if rng.random() < 0.1 else "",
                cancel_reason="Kunde verhindert." if status == AppointmentStatus.CANCELLED else "",
                **stamps,
            )
        )
        if len(batch) == 5000:
            Appointment.objects.bulk_create(batch, batch_size=1000)
            batch = []
    Appointment.objects.bulk_create(batch, batch_size=1000)
    upcoming_id = (
        Appointment.objects.filter(status=AppointmentStatus.SCHEDULED, window_start__gte=now)
        .order_by("window_start")
        .values_list("id", flat=True)
        .first()
    )
    return upcoming_id or Appointment.objects.values_list("id", flat=True).first()


def appointment_status(rng, window_start, window_end, service, now):
    """A status that fits the appointment's time, with the matching timestamps."""
    from appointments.models import AppointmentStatus

    # Requests come in days to weeks ahead, and never in the future.
    requested_at = min(window_start - timedelta(days=rng.randrange(3, 40)), now - timedelta(hours=3))
    stamps = {"requested_at": requested_at, "scheduled_at": requested_at + timedelta(hours=2)}
    roll = rng.random()
    if window_end <= now:
        if roll < 0.80:
            arrived = window_start + timedelta(minutes=rng.randrange(0, 60))
            stamps.update(
                trip_started_at=arrived - timedelta(minutes=20),
                arrived_at=arrived,
                completed_at=arrived + service.duration,
            )
            return AppointmentStatus.COMPLETED, stamps
        if roll < 0.92:
            stamps["cancelled_at"] = window_start - timedelta(days=1)
            return AppointmentStatus.CANCELLED, stamps
        stamps["missed_at"] = window_end
        return AppointmentStatus.MISSED, stamps
    if window_start <= now:
        stamps.update(trip_started_at=window_start, arrived_at=window_start + timedelta(minutes=10))
        return AppointmentStatus.ON_SITE, stamps
    if roll < 0.75:
        return AppointmentStatus.SCHEDULED, stamps
    if roll < 0.90:
        del stamps["scheduled_at"]
        return AppointmentStatus.REQUESTED, stamps
    stamps["cancelled_at"] = requested_at + timedelta(days=1)
    return AppointmentStatus.CANCELLED, stamps


JOURNAL_ACTIONS = {
    "completed": ("visit.completed", "visit", "internal", "Besuch abgeschlossen."),
    "cancelled": ("appointment.cancelled", "phone", "in", "Kunde hat abgesagt."),
    "missed": ("visit.missed", "letter", "out", "Niemand angetroffen, Karte eingeworfen."),
    "scheduled": ("appointment.scheduled", "email", "out", "Termin bestätigt."),
    "requested": ("appointment.requested", "web", "in", "Terminwunsch über das Formular."),
    "on_site": ("visit.arrived", "visit", "internal", "Techniker vor Ort."),
}


def create_journal(args, rng, office_user) -> None:
    """One entry per appointment, as the services write them, plus recorded calls when asked for more."""
    from django.utils import timezone

    from appointments.models import Appointment
    from journal.models import JournalEntry

    if not args.journal:
        return
    appointments = list(
        Appointment.objects.order_by("id").values_list("id", "customer_id", "status", "window_start", "window_end")
    )
    now = timezone.now()
    batch = []
    for index in range(args.journal):
        appointment_id, customer_id, status, window_start, window_end = appointments[index % len(appointments)]
        action, channel, direction, summary = JOURNAL_ACTIONS[status]
        if index >= len(appointments):
            action, channel, direction, summary = "contact.recorded", "phone", "in", "Rückfrage zum Termin."
        batch.append(
            JournalEntry(
                customer_id=customer_id,
                appointment_id=appointment_id,
                channel=channel,
                direction=direction,
                action=action,
                summary=summary,
                data={"window_start": window_start.isoformat(), "window_end": window_end.isoformat()},
                actor=office_user if direction != "internal" else None,
                # The journal records the past: entries about future visits were written before now.
                occurred_at=min(
                    window_start - timedelta(days=rng.randrange(0, 30)),
                    now - timedelta(minutes=rng.randrange(1, 30 * 24 * 60)),
                ),
            )
        )
        # bulk_create only INSERTs, which the append-only triggers allow.
        if len(batch) == 5000:
            JournalEntry.objects.bulk_create(batch, batch_size=1000)
            batch = []
    JournalEntry.objects.bulk_create(batch, batch_size=1000)


def count_rows(dataset: Dataset) -> None:
    from django.db.models import Count

    from appointments.models import Appointment, Technician
    from customers.models import Customer
    from journal.models import JournalEntry

    dataset.row_counts = {
        "customers": Customer.objects.count(),
        "appointments": Appointment.objects.count(),
        "journal entries": JournalEntry.objects.count(),
        "technicians": Technician.objects.count(),
        "appointments of the heavy customer": Appointment.objects.filter(customer=dataset.heavy_customer_id).count(),
    }
    dataset.status_counts = dict(
        Appointment.objects.order_by("status")
        .values_list("status")
        .annotate(total=Count("id"))
        .values_list("status", "total")
    )


# Pages ----------------------------------------------------------------------


@dataclass
class Page:
    name: str
    url: str
    # Text the page must show (HTML-escaped), so a fast but empty or wrong page fails.
    must_contain: str = ""


def pages_to_measure(dataset: Dataset) -> list[Page]:
    import phonenumbers
    from django.utils import timezone

    from appointments.models import AppointmentStatus, ServiceType, Technician
    from customers.models import Customer

    heavy = Customer.objects.get(pk=dataset.heavy_customer_id)
    # The board (issue #11): next week, whose diary is full at this size, and a service to find a time for.
    next_week = timezone.localdate() + timedelta(days=7)
    service_type = ServiceType.objects.order_by("id").first()
    technician = Technician.objects.order_by("display_name", "id").first()
    tomorrow = timezone.localdate() + timedelta(days=1)
    surname = heavy.full_name.split()[-1]
    phone_customer = Customer.objects.filter(phone__startswith="+4930").order_by("id").first() or heavy
    national = phonenumbers.format_number(phone_customer.phone, phonenumbers.PhoneNumberFormat.NATIONAL)
    # Six digits from inside the number, as someone reads them off a note: a handful of customers
    # match. (A fragment must not start with 0: the search drops leading zeros, read as a trunk prefix.)
    fragment = str(phone_customer.phone)[-7:-1]

    def first_listed(queryset) -> str:
        # The customer changelist is ordered by name, so this one is on the first page of results.
        return queryset.order_by("full_name", "id").values_list("full_name", flat=True).first() or ""

    def search(changelist: str, term: str) -> str:
        return f"{changelist}?{urlencode({'q': term})}"

    customers = "/admin/customers/customer/"
    appointments = "/admin/appointments/appointment/"
    busiest_day, busiest_visit = busiest_board_day()
    return [
        Page("baseline: minimal view", "/bench/minimal/", "yes"),
        Page("customer changelist", customers, first_listed(Customer.objects.all())),
        Page("customer search: surname", search(customers, surname), first_listed(
            Customer.objects.filter(full_name__icontains=surname))),
        Page("customer search: postcode", search(customers, heavy.postcode), first_listed(
            Customer.objects.filter(postcode=heavy.postcode))),
        Page("customer search: phone national", search(customers, national), phone_customer.full_name),
        Page("customer search: phone fragment", search(customers, fragment), first_listed(
            Customer.objects.filter(phone__contains=fragment))),
        Page("customer change (heavy)", f"{customers}{heavy.pk}/change/", heavy.full_name),
        Page("appointment changelist", appointments, ""),
        Page("appointments: status=scheduled", f"{appointments}?status__exact={AppointmentStatus.SCHEDULED}", ""),
        Page("appointments: this week", f"{appointments}?day=this-week", ""),
        Page("appointment search: surname", search(appointments, surname), ""),
        Page("appointment change", f"{appointments}{dataset.appointment_id}/change/", ""),
        Page("journal changelist", "/admin/journal/journalentry/", ""),
        Page(BOARD_PAGE, f"/board/?day={busiest_day.isoformat()}", f"visit-{busiest_visit}"),
        Page("board: week, all technicians", f"/board/week/?week={next_week}", technician.display_name),
        Page("board: week, one technician", f"/board/week/?week={next_week}&technician={technician.pk}",
             technician.display_name),
        Page("board: find a time (6 weeks)", "/board/find/?" + urlencode(
            {"service_type": service_type.pk, "first_day": tomorrow.isoformat()}), "free-times"),
        Page("board: find a time, one technician", "/board/find/?" + urlencode(
            {"service_type": service_type.pk, "first_day": tomorrow.isoformat(), "technician": technician.pk}),
             "free-times"),
    ]  # fmt: skip


def busiest_board_day():
    """The day with the most active visits planned with a technician, and one of them (the page must show it)."""
    from django.db.models import Count, Min
    from django.db.models.functions import TruncDate

    from appointments.models import Appointment

    busiest = (
        Appointment.objects.active()
        .filter(technician__isnull=False)
        .annotate(day=TruncDate("planned_start"))
        .values("day")
        .annotate(visits=Count("id"), first=Min("id"))
        .order_by("-visits", "day")
        .first()
    )
    return busiest["day"], busiest["first"]


# Measuring ------------------------------------------------------------------


@dataclass
class Result:
    name: str
    url: str
    # Over HTTP (HttpBench): what the person waiting sees, less the network.
    median_ms: float
    p90_ms: float
    queries: int
    slowest_query_ms: float
    # All queries of the counted request together: the rest of the median is Python and templates.
    all_queries_ms: float = 0.0
    ratio: float = 0.0
    # CPU time of this process (client and server thread) per request over HTTP, and its ratio: on a busy
    # machine a long request is preempted far more often than the short baseline, the CPU ratio barely.
    cpu_ms: float = 0.0
    cpu_ratio: float = 0.0
    # The same page through the test client (no HTTP): its CPU per request and ratio, the figure the
    # bench gave before it measured over HTTP. Without HTTP the baseline is far cheaper, so this ratio is higher.
    in_process_cpu_ms: float = 0.0
    in_process_cpu_ratio: float = 0.0
    problems: list[str] = field(default_factory=list)
    slowest_sql: str = ""


def measure(http: "HttpBench", cookies: str, client, page: Page, args: argparse.Namespace) -> Result:
    problems = []
    timings, cpu, (status, body) = timed_calls(lambda: http.get(page.url, cookies), args.runs, args.warmups)
    check_response(status, body, page, problems)
    _timings, in_process_cpu, response = timed_calls(lambda: client.get(page.url), args.runs, args.warmups)
    check_response(response.status_code, response.content, page, problems)
    # Counted in a separate request: recording every query's SQL would add to the timings.
    status, body, captured = http.get_counted(page.url, cookies)
    check_response(status, body, page, problems)
    slowest = max(captured, key=lambda query: query["time"], default=None)
    if len(captured) > args.max_queries:
        shape, repeats = most_repeated_query(captured)
        problems.append(f"{len(captured)} queries (over {args.max_queries}); {repeats}x: {shape[:160]}")
    return Result(
        name=page.name,
        url=page.url,
        median_ms=statistics.median(timings),
        # Nearest rank: with 15 runs, the 14th fastest.
        p90_ms=timings[math.ceil(0.9 * len(timings)) - 1],
        queries=len(captured),
        slowest_query_ms=slowest["time"] * 1000 if slowest else 0.0,
        all_queries_ms=sum(query["time"] for query in captured) * 1000,
        cpu_ms=statistics.median(cpu),
        in_process_cpu_ms=statistics.median(in_process_cpu),
        problems=sorted(set(problems)),
        slowest_sql=slowest["sql"] if slowest else "",
    )


def most_repeated_query(queries: list[dict]) -> tuple[str, int]:
    """The query run most often once its literals are blanked out: the culprit of an N+1."""
    shapes = Counter(re.sub(r"'[^']*'|\b\d+\b", "?", query["sql"]) for query in queries)
    return shapes.most_common(1)[0]


def check_response(status: int, content: bytes, page: Page, problems: list[str]) -> None:
    if status != 200:
        problems.append(f"HTTP {status}")
        return
    if page.must_contain and escape(page.must_contain) not in content.decode():
        problems.append(f"does not show {page.must_contain!r}")


def explain(sql: str) -> str:
    from django.db import connection

    prefix = "EXPLAIN QUERY PLAN " if connection.vendor == "sqlite" else "EXPLAIN (ANALYZE, BUFFERS) "
    with connection.cursor() as cursor:
        cursor.execute(prefix + sql)
        rows = cursor.fetchall()
    if connection.vendor == "sqlite":
        return "\n".join(f"    {row[-1]}" for row in rows)
    return "\n".join(f"    {row[0]}" for row in rows)


# Over HTTP ---------------------------------------------------------------------


class HttpBench:
    """The project's WSGI app behind a real HTTP server in a thread of this process, and a client for it.

    The test client calls Django directly: no socket, no HTTP parsing, no WSGI server, so the minimal
    view costs a third of a millisecond and every real page looks 30-300x as expensive as it is to the
    person waiting (issue #11 asks for the ratio over HTTP). Django's own threaded development server
    keeps connections alive (HTTP/1.1, Content-Length set by CommonMiddleware), so one persistent
    http.client connection times the request and not the TCP handshake, for the baseline and the pages
    alike. Requests run in the server's thread with its own database connection, closed after each
    request where production closes it (CONN_MAX_AGE 0 on SQLite).
    """

    def __init__(self):
        import threading

        from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler
        from django.core.wsgi import get_wsgi_application

        class QuietHandler(WSGIRequestHandler):
            # The server writes the headers and the body separately: with Nagle's algorithm the body
            # waits for the client's delayed ACK, 40 ms on Linux, which would swamp every figure.
            disable_nagle_algorithm = True

            def log_message(self, *args):
                pass

        self._recording: list[dict] | None = None
        self._application = get_wsgi_application()
        self._server = ThreadedWSGIServer(("127.0.0.1", 0), QuietHandler, allow_reuse_address=False)
        self._server.set_app(self._serve)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, name="bench-http", daemon=True)
        self._thread.start()
        self._connection = None

    def _serve(self, environ, start_response):
        recording = self._recording
        if recording is None:
            return self._application(environ, start_response)
        from django.db import connection

        # This thread's connection: a wrapper on it sees every query of the request, including the
        # session's, and survives the connection being closed and reopened.
        def record(execute, sql, params, many, context):
            started = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                elapsed = time.perf_counter() - started
                # As the test's CaptureQueriesContext shows it: the literals in place, ready for EXPLAIN.
                try:
                    shown = connection.ops.last_executed_query(context["cursor"].cursor, sql, None if many else params)
                except Exception:  # an executemany, or a driver that cannot say: the statement is enough
                    shown = sql
                recording.append({"sql": shown, "time": elapsed})

        with connection.execute_wrapper(record):
            return self._application(environ, start_response)

    def get(self, path: str, cookies: str = "") -> tuple[int, bytes]:
        import http.client

        for attempt in range(2):
            if self._connection is None:
                self._connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
            try:
                self._connection.request("GET", path, headers={"Cookie": cookies} if cookies else {})
                response = self._connection.getresponse()
                body = response.read()
            except (http.client.HTTPException, ConnectionError):
                # The server closed a kept-alive connection: once more on a new one.
                self._connection.close()
                self._connection = None
                if attempt:
                    raise
                continue
            if response.getheader("Connection", "").lower() == "close":
                self._connection.close()
                self._connection = None
            return response.status, body
        raise AssertionError("unreachable")

    def get_counted(self, path: str, cookies: str = "") -> tuple[int, bytes, list[dict]]:
        """One request with every query recorded ({"sql", "time" in seconds}): never a timed one, recording costs."""
        self._recording = recorded = []
        try:
            status, body = self.get(path, cookies)
        finally:
            self._recording = None
        return status, body, recorded

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
        self._server.shutdown()
        self._server.server_close()


def office_client(user, **login):
    """A test client signed in as `user` and past the second factor, as an office browser is after its code
    (superusers must give one: a session with the password alone is sent to the code page)."""
    from django.test import Client

    from tests.accounts.signin import verify_session  # the tests' own way past the code step

    client = Client()
    client.force_login(user, **login)
    verify_session(client, user)
    return client


def cookie_header(client) -> str:
    """The test client's cookies (the session a login or an opened link gave it) as a Cookie header."""
    return "; ".join(f"{name}={morsel.value}" for name, morsel in client.cookies.items())


# Report -------------------------------------------------------------------


def print_header(args, dataset: Dataset) -> None:
    import django

    print(f"Doorstep bench · Django {django.get_version()} · Python {sys.version.split()[0]} · {describe_database()}")
    print(f"Data set built in {dataset.build_seconds:.1f} s:")
    for name, total in dataset.row_counts.items():
        print(f"  {name:<36} {total:>9,}")
    statuses = ", ".join(f"{status} {total:,}" for status, total in dataset.status_counts.items())
    print(f"  appointments by status: {statuses}")
    print(
        f"Each page: median and p90 of {args.runs} requests after {args.warmups} warm-ups, logged in as a superuser,"
        " over HTTP (a server thread, one kept-alive connection); vs baseline = median / baseline median, same run.\n"
        "CPU vs base: the same for this process's CPU time per request (client and server), which a busy machine"
        " moves less.\nin-process CPU: the CPU ratio through Django's test client, without HTTP (the bench's"
        " figure before; its baseline is far cheaper, so every ratio is higher)."
    )
    print()


def set_ratios(results: list[Result]) -> None:
    """Each figure over the baseline's (the first result's) same figure."""
    baseline = results[0]
    for result in results:
        result.ratio = result.median_ms / baseline.median_ms if baseline.median_ms else float("inf")
        result.cpu_ratio = result.cpu_ms / baseline.cpu_ms if baseline.cpu_ms else float("inf")
        result.in_process_cpu_ratio = (
            result.in_process_cpu_ms / baseline.in_process_cpu_ms if baseline.in_process_cpu_ms else float("inf")
        )


def print_table(results: list[Result]) -> None:
    header = (
        f"{'page':<36} {'median ms':>10} {'p90 ms':>8} {'queries':>8} {'slowest q ms':>13} {'vs baseline':>12}"
        f" {'CPU vs base':>12} {'in-process CPU':>15}"
    )
    print(header)
    print("-" * len(header))
    for result in results:
        print(
            f"{result.name:<36} {result.median_ms:>10.1f} {result.p90_ms:>8.1f} {result.queries:>8}"
            f" {result.slowest_query_ms:>13.1f} {result.ratio:>11.1f}x {result.cpu_ratio:>11.1f}x"
            f" {result.in_process_cpu_ratio:>14.1f}x" + ("  FAIL" if result.problems else "")
        )
    for result in results:
        for problem in result.problems:
            print(f"FAIL {result.name}: {problem}")


def save_results(args, dataset: Dataset, results: list[Result]) -> Path:
    """Keep a machine-readable copy in bench/out/ (git-ignored) for comparing runs on one machine."""
    out_dir = BASE_DIR / "bench" / "out"
    out_dir.mkdir(exist_ok=True)
    path = out_dir / f"bench-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.json"
    payload = {
        "database": describe_database(),
        "arguments": vars(args),
        "dataset": asdict(dataset),
        "results": [asdict(result) for result in results],
    }
    text = json.dumps(payload, indent=2, default=str) + "\n"
    path.write_text(text)
    if args.json_out:
        args.json_out.write_text(text)
    return path


# Both sizes, every database ---------------------------------------------------


def database_targets() -> list[tuple[str, str]]:
    """(name, BENCH_DATABASE_URL) per database to measure: SQLite, and PostgreSQL when one is configured.

    The PostgreSQL bench database is dropped and recreated: from DATABASE_URL it gets a name of its
    own (the real name plus "_bench") on the same server, so the real database is never touched.
    """
    import dj_database_url

    targets = [("SQLite", "")]
    if url := os.environ.get("BENCH_DATABASE_URL", ""):
        return [("PostgreSQL", url)]
    url = os.environ.get("DATABASE_URL", "")
    if url and dj_database_url.parse(url)["ENGINE"] == "django.db.backends.postgresql":
        parts = url.split("?", 1)
        base, _, name = parts[0].rpartition("/")
        targets.append(("PostgreSQL", f"{base}/{name}_bench" + (f"?{parts[1]}" if len(parts) > 1 else "")))
    return targets


def child_arguments(args: argparse.Namespace, **sizes: int) -> list[str]:
    values = {
        "customers": args.customers,
        "appointments": args.appointments,
        "journal": args.journal,
        "technicians": args.technicians,
        "runs": args.runs,
        "warmups": args.warmups,
        "seed": args.seed,
        "max-queries": args.max_queries,
        **sizes,
    }
    flags = [f"--{name}={value}" for name, value in values.items()]
    if args.explain and not sizes:
        flags.append("--explain")
    if args.keep:
        flags.append("--keep")
    return flags


def run_child(flags: list[str], database_url: str, json_out: Path) -> tuple[int, dict | None]:
    """One database and one size in a process of its own: Django reads its settings only once."""
    env = {**os.environ, "BENCH_DATABASE_URL": database_url}
    returncode = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), *flags, "--single", f"--json-out={json_out}"],
        env=env,
        check=False,
    ).returncode
    payload = json.loads(json_out.read_text()) if json_out.exists() else None
    return returncode, payload


def target_report(name: str, small: dict, large: dict) -> list[str]:
    """The appointment list at both sizes against its target; returns the failures."""
    print()
    print(f"Target on {name}: at most {TARGET_RATIO}x the baseline, the same queries at both sizes")
    header = (
        f"{'page':<32} {'appointments':>12} {'median ms':>10} {'of it SQL':>10} {'queries':>8} {'vs baseline':>12}"
    )
    print(header)
    print("-" * len(header))
    failures = []
    for page in TARGET_PAGES:
        rows = []
        for run in (small, large):
            result = next(result for result in run["results"] if result["name"] == page)
            rows.append((run["dataset"]["row_counts"]["appointments"], result))
        problems = []
        if rows[0][1]["queries"] != rows[1][1]["queries"]:
            problems.append("queries grow with the rows")
        # Timings are as noisy as the machine: a ratio over target is reported, it does not fail the run.
        over = max(result["ratio"] for _count, result in rows) > TARGET_RATIO
        for index, (count, result) in enumerate(rows):
            label = page if index == 0 else ""
            verdict = ""
            if index == 1:
                verdict = f"  FAIL: {', '.join(problems)}" if problems else "  same queries"
                verdict += f"; over {TARGET_RATIO}x" if over else f"; within {TARGET_RATIO}x"
            print(
                f"{label:<32} {count:>12,} {result['median_ms']:>10.1f} {result.get('all_queries_ms', 0):>10.1f}"
                f" {result['queries']:>8} {result['ratio']:>11.1f}x{verdict}"
            )
        failures += [f"{name} {page}: {problem}" for problem in problems]
    failures += board_report(name, small, large)
    return failures


def board_report(name: str, small: dict, large: dict) -> list[str]:
    """The board's day view at both sizes against its own target (issue #11)."""
    rows = [
        (run["dataset"]["row_counts"]["appointments"], next(r for r in run["results"] if r["name"] == BOARD_PAGE))
        for run in (small, large)
    ]
    same = rows[0][1]["queries"] == rows[1][1]["queries"]
    over = max(result["ratio"] for _count, result in rows) > BOARD_TARGET_RATIO
    for index, (count, result) in enumerate(rows):
        verdict = ""
        if index == 1:
            verdict = "  same queries" if same else "  FAIL: queries grow with the rows"
            verdict += f"; over {BOARD_TARGET_RATIO}x" if over else f"; within {BOARD_TARGET_RATIO}x"
        print(
            f"{BOARD_PAGE if index == 0 else '':<32} {count:>12,} {result['median_ms']:>10.1f}"
            f" {result.get('all_queries_ms', 0):>10.1f} {result['queries']:>8} {result['ratio']:>11.1f}x{verdict}"
        )
    return [] if same else [f"{name} {BOARD_PAGE}: queries grow with the rows"]


def run_all(args: argparse.Namespace) -> int:
    failures = []
    with tempfile.TemporaryDirectory(prefix="doorstep-bench-json-") as out:
        for name, database_url in database_targets():
            print(f"=== {name}: {args.appointments:,} appointments", flush=True)
            large_code, large = run_child(child_arguments(args), database_url, Path(out) / f"{name}-large.json")
            print(f"\n=== {name}: {SMALL_SIZE['appointments']:,} appointments", flush=True)
            small_code, small = run_child(
                child_arguments(args, **SMALL_SIZE), database_url, Path(out) / f"{name}-small.json"
            )
            if large_code or small_code:
                failures.append(f"{name}: a run failed")
            if large and small:
                failures += target_report(name, small, large)
            print(flush=True)
    for failure in failures:
        print(f"FAIL {failure}")
    return 1 if failures else 0


def main(argv: list[str] | None = None) -> int:
    started = time.perf_counter()
    args = parse_args(argv)
    if not args.single:
        return run_all(args)
    var_dir = prepare_environment()
    try:
        return run(args, started)
    finally:
        if args.keep:
            print(f"Kept {var_dir}")
        else:
            shutil.rmtree(var_dir, ignore_errors=True)


def run(args: argparse.Namespace, started: float) -> int:
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import override_settings

    call_command("migrate", verbosity=0, interactive=False)
    dataset = build_dataset(args)
    print_header(args, dataset)

    # The test client's host is "testserver", the HTTP server's 127.0.0.1; the baseline view lives in bench.urls.
    hosts = [*settings.ALLOWED_HOSTS, "testserver", "127.0.0.1"]
    with override_settings(ROOT_URLCONF="bench.urls", ALLOWED_HOSTS=hosts):
        client = office_client(
            get_user_model().objects.get(pk=dataset.office_user_id),
            backend="django.contrib.auth.backends.ModelBackend",
        )
        http = HttpBench()
        try:
            # The office's session, as its browser would send it.
            cookies = cookie_header(client)
            results = [measure(http, cookies, client, page, args) for page in pages_to_measure(dataset)]
        finally:
            http.close()
    set_ratios(results)
    print_table(results)
    board = next(result for result in results if result.name == BOARD_PAGE)
    print(
        f"\nDispatch board day view ({board.url}): median {board.median_ms:.1f} ms, {board.queries} queries,"
        f" {board.ratio:.1f}x the minimal view (target at most {BOARD_TARGET_RATIO}x)"
        + ("" if board.ratio <= BOARD_TARGET_RATIO else " OVER TARGET")
    )

    if args.explain:
        for result in results[1:]:
            if result.ratio > 20 and result.slowest_sql:
                print(f"\n{result.name}: slowest query ({result.slowest_query_ms:.1f} ms)\n  {result.slowest_sql}")
                print(explain(result.slowest_sql))
    connection.close()

    failures = [result for result in results if result.problems]
    print()
    print(f"Results saved to {save_results(args, dataset, results).relative_to(BASE_DIR)}")
    print(f"Total bench time {time.perf_counter() - started:.1f} s")
    if failures:
        print(f"{len(failures)} page(s) failed: " + ", ".join(result.name for result in failures))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""`make bench`, part 3: free-window computation at 2k, 20k and 200k appointments.

For each size: one technician-day, the 6-week "any technician" computation,
and the customer's 6-week booking page over HTTP, each with its query count,
next to a minimal Django view measured in the same run. The number of queries
must not depend on the number of appointments.

    .venv/bin/python bench/availability.py                   # 2k, 20k, 200k on SQLite in a temp dir
    .venv/bin/python bench/availability.py --sizes 2000 20000
    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/doorstep_bench .venv/bin/python bench/availability.py
"""

import argparse
import random
import shutil
import statistics
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import prepare_environment  # noqa: E402  (bench/run.py: own temp database)

TECHNICIANS = 10


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[2_000, 20_000, 200_000])
    parser.add_argument("--runs", type=int, default=15)
    return parser.parse_args(argv)


def timed(function, runs: int) -> tuple[float, int]:
    """Median milliseconds over `runs` after one warm-up, and the queries of one call."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    function()
    with CaptureQueriesContext(connection) as queries:
        function()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        function()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples), len(queries.captured_queries)


def build(size: int, state: dict) -> None:
    """Top up the appointments to `size`, spread over two years around today, never overlapping."""
    from django.utils import timezone

    from appointments.models import Appointment

    rng = random.Random(size)
    existing = Appointment.objects.count()
    rows = []
    today = timezone.localdate()
    # Each technician has 4 two-hour slots a day; fill random free ones, heavier inside the 6 weeks.
    while existing + len(rows) < size:
        # Years of history (200k visits need them at 10 technicians), denser inside the 6 weeks.
        offset = rng.randint(-5200, 365) if rng.random() < 0.7 else rng.randint(1, 42)
        technician = rng.choice(state["technicians"])
        slot = rng.randrange(4)
        key = (technician.pk, offset, slot)
        if key in state["taken"]:
            if len(state["taken"]) >= TECHNICIANS * 4 * 5566:
                break
            continue
        state["taken"].add(key)
        start = timezone.make_aware(datetime.combine(today + timedelta(days=offset), datetime.min.time())) + timedelta(
            hours=8 + 2 * slot
        )
        rows.append(
            Appointment(
                customer=state["customer"],
                technician=technician,
                service_type=state["service_type"],
                site_street="Hafenstraße 1",
                site_postcode="47533",
                site_city="Kleve",
                window_start=start,
                window_end=start + timedelta(hours=2),
                expected_duration=timedelta(hours=1),
                planned_start=start,
                occupied_until=start + timedelta(hours=2),
                status="scheduled" if offset > 0 else "completed",
            )
        )
    Appointment.objects.bulk_create(rows, batch_size=2000)


def setup_base() -> dict:
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from appointments.models import ServiceType, Technician, WorkingPeriod
    from appointments.services.booking import booking_invite
    from customers.models import Customer, Firm, OfficeProfile

    call_command("migrate", verbosity=0)
    User = get_user_model()
    office = User.objects.create_user(
        "office", "office@bench.example", "x", is_staff=True, first_name="Sandra", last_name="Brinkmann"
    )
    OfficeProfile.objects.create(user=office, direct_phone="+492821123456")
    Firm.objects.create(name="Bench GmbH", email="office@bench.example", phone="+492821100000")
    service_type = ServiceType.objects.create(
        name="Boiler maintenance",
        duration=timedelta(hours=1),
        arrival_window=timedelta(hours=2),
        buffer_after=timedelta(minutes=30),
    )
    technicians = []
    for index in range(TECHNICIANS):
        user = User.objects.create_user(f"tech{index}", is_staff=True)
        technician = Technician.objects.create(user=user, display_name=f"Tech {index}", mobile_phone="+4915112345678")
        technician.service_types.add(service_type)
        WorkingPeriod.objects.bulk_create(
            WorkingPeriod(technician=technician, weekday=day, starts=start, ends=end)
            for day in range(5)
            for start, end in (("07:30", "12:00"), ("12:30", "16:30"))
        )
        technicians.append(technician)
    customer = Customer.objects.create(
        full_name="Anna Schmitz",
        email="anna@bench.example",
        street="Hafenstraße 1",
        postcode="47533",
        city="Kleve",
        responsible=office,
    )
    invitation = booking_invite(customer=customer, service_type=service_type, actor=office)
    return {
        "service_type": service_type,
        "technicians": technicians,
        "customer": customer,
        "taken": set(),
        "invitation": invitation,
    }


def main(argv=None) -> int:
    args = parse_args(argv)
    var_dir = prepare_environment()
    started = time.perf_counter()
    try:
        import django

        django.setup()
        from django.core.signals import request_started
        from django.db import reset_queries

        # Django empties the query log when a request starts; the count must cover the request.
        request_started.disconnect(reset_queries)
        from django.conf import settings
        from django.test import Client
        from django.test.utils import override_settings
        from django.urls import reverse

        from appointments.availability import booking_days, free_windows
        from appointments.links import invitation_token

        state = setup_base()
        client = Client()
        with override_settings(ALLOWED_HOSTS=["testserver"]):
            client.get(reverse("selfservice:open", args=[invitation_token(state["invitation"])]))
        first_day, last_day = booking_days()
        one_day = first_day + timedelta(days=(7 - first_day.weekday()) % 7)  # a Monday
        rows = []
        problems = []
        with override_settings(ROOT_URLCONF="urls", ALLOWED_HOSTS=["testserver"]):
            for size in sorted(args.sizes):
                build(size, state)
                baseline_ms, baseline_queries = timed(lambda: client.get("/bench/minimal/"), args.runs)
                day_ms, day_queries = timed(
                    lambda: free_windows(
                        service_type=state["service_type"],
                        technician=state["technicians"][0],
                        first_day=one_day,
                        last_day=one_day,
                    ),
                    args.runs,
                )
                weeks_ms, weeks_queries = timed(
                    lambda: free_windows(service_type=state["service_type"], first_day=first_day, last_day=last_day),
                    args.runs,
                )
                page_ms, page_queries = timed(lambda: client.get(reverse("selfservice:page")), args.runs)
                status = client.get(reverse("selfservice:page")).status_code
                if status != 200:
                    problems.append(f"booking page answered {status} at {size}")
                rows.append(
                    (
                        size,
                        baseline_ms,
                        baseline_queries,
                        day_ms,
                        day_queries,
                        weeks_ms,
                        weeks_queries,
                        page_ms,
                        page_queries,
                    )
                )
        print(
            f"Database: {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}, "
            f"{TECHNICIANS} technicians, 6 weeks = {first_day} … {last_day}; median of {args.runs} runs\n"
        )
        header = (
            f"{'appointments':>12}  {'baseline ms':>11}  {'1 tech-day ms':>13} {'q':>3}  "
            f"{'6 wk any ms':>11} {'q':>3}  {'6 wk page ms':>12} {'q':>3}  {'page vs baseline':>16}"
        )
        print(header)
        print("-" * len(header))
        for size, base, _bq, day, dq, weeks, wq, page, pq in rows:
            print(
                f"{size:>12,}  {base:>11.2f}  {day:>13.2f} {dq:>3}  {weeks:>11.2f} {wq:>3}  {page:>12.2f} {pq:>3}  "
                f"{page / base:>15.1f}x"
            )
        for label, column in (("technician-day", 4), ("6-week", 6), ("page", 8)):
            counts = {row[column] for row in rows}
            if len(counts) > 1:
                problems.append(f"{label} query count grows with appointments: {sorted(counts)}")
        print(f"\nTotal {time.perf_counter() - started:.1f} s")
        for problem in problems:
            print(f"FAIL {problem}")
        return 1 if problems else 0
    finally:
        shutil.rmtree(var_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

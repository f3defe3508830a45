"""`make bench`, part 5: My desk (/desk/, issue #12) at 100 and 10,000 open promises.

For each size: the person's desk and the team view (with the count per person, as a lead sees it) over
HTTP, each with its query count, and the header's "My desk (3 overdue · 5 today)" count on its own,
next to the minimal Django view measured in the same run. The number of queries must not depend on the
number of promises (a FAIL otherwise).

    .venv/bin/python bench/desk_page.py                      # 100 and 10,000 open promises, SQLite in a temp dir
    .venv/bin/python bench/desk_page.py --sizes 100 50000
    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/doorstep_bench .venv/bin/python bench/desk_page.py
"""

import argparse
import random
import shutil
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import HttpBench, cookie_header, office_client, prepare_environment  # noqa: E402  (bench/run.py)
from timing import timed_calls, timed_with_queries  # noqa: E402  (bench/timing.py)

OFFICE_PEOPLE = 12
CUSTOMERS = 3_000
# For every open promise, this many kept or voided ones: the desk reads only the open ones.
CLOSED_PER_OPEN = 2
# As the admin's appointment list (bench/run.py): at most this many times the minimal view. Reported, not a failure.
PAGE_TARGET = 30


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 10_000])
    parser.add_argument("--runs", type=int, default=15)
    return parser.parse_args(argv)


def setup_base() -> dict:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.core.management import call_command

    from customers.models import Customer, Firm, OfficeProfile

    call_command("migrate", verbosity=0)
    User = get_user_model()
    Firm.objects.create(name="Bench GmbH", email="office@bench.example", phone="+492821100000")
    people = []
    for index in range(OFFICE_PEOPLE):
        user = User.objects.create_user(
            f"office{index}",
            f"office{index}@bench.example",
            "x",
            is_staff=True,
            first_name=f"Person{index}",
            last_name="Brinkmann-Oostenbrink",
        )
        OfficeProfile.objects.create(user=user, direct_phone="+492821123456")
        people.append(user)
    Group.objects.create(name="Office leads").user_set.add(people[0])
    Customer.objects.bulk_create(
        (
            Customer(
                full_name=f"Wohnungseigentümergemeinschaft Kastanienallee {index}",
                email=f"customer{index}@bench.example",
                phone="+4928211234567",
                street="Hafenstraße 1",
                postcode="47533",
                city="Kleve",
                responsible=people[index % OFFICE_PEOPLE],
            )
            for index in range(CUSTOMERS)
        ),
        batch_size=1000,
    )
    return {"people": people, "customers": list(Customer.objects.order_by("pk").values_list("pk", flat=True))}


def build(size: int, state: dict) -> None:
    """Top up the open promises to `size`, spread from two weeks late to two weeks ahead over every kind and
    owner, with their closed history, and online changes and missed-visit follow-ups in proportion."""
    from django.utils import timezone

    from desk.models import Promise, PromiseKind, PromiseState
    from journal.models import JournalEntry

    rng = random.Random(size)
    now = timezone.now()
    have = Promise.objects.filter(state=PromiseState.OPEN).count()
    kinds = list(PromiseKind.values)
    rows = []
    for _ in range(size - have):
        owner = rng.choice(state["people"])
        customer_id = rng.choice(state["customers"])
        due_at = now + timedelta(minutes=rng.randint(-14 * 24 * 60, 14 * 24 * 60))
        kind = rng.choice(kinds)
        rows.append(
            Promise(kind=kind, customer_id=customer_id, owner=owner, due_at=due_at, note="Rückruf wegen Angebot")
        )
        for _closed in range(CLOSED_PER_OPEN):
            rows.append(
                Promise(
                    kind=kind,
                    customer_id=customer_id,
                    owner=owner,
                    due_at=due_at - timedelta(days=rng.randint(1, 400)),
                    state=rng.choice([PromiseState.DONE, PromiseState.VOIDED, PromiseState.MOVED]),
                    closed_at=due_at - timedelta(days=1),
                )
            )
    Promise.objects.bulk_create(rows, batch_size=2000)
    changes = [
        JournalEntry(
            customer_id=rng.choice(state["customers"]),
            channel="web",
            direction="in",
            action=rng.choice(["appointment.rescheduled", "appointment.cancelled", "appointment.scheduled"]),
            summary="Visit moved online by the customer.",
            occurred_at=now - timedelta(minutes=rng.randint(1, 14 * 24 * 60)),
        )
        for _ in range(max(size // 10 - JournalEntry.objects.count(), 0))
    ]
    JournalEntry.objects.bulk_create(changes, batch_size=2000)


def over_http(http, url: str, cookies: str, runs: int) -> tuple[float, int, float]:
    """Median wall-clock and CPU milliseconds over HTTP, and the queries of one request."""
    timings, cpu, _response = timed_calls(lambda: http.get(url, cookies), runs, 1)
    status, _body, queries = http.get_counted(url, cookies)
    if status != 200:
        raise SystemExit(f"{url} answered {status}")
    return statistics.median(timings), len(queries), statistics.median(cpu)


def main(argv=None) -> int:
    args = parse_args(argv)
    var_dir = prepare_environment()
    started = time.perf_counter()
    try:
        import django

        django.setup()
        from django.core.signals import request_started
        from django.db import connection, reset_queries

        # Django empties the query log when a request starts; the count must cover the request.
        request_started.disconnect(reset_queries)
        from django.conf import settings
        from django.test.utils import override_settings
        from django.urls import reverse

        from desk.models import Promise
        from desk.selectors import desk_counts

        state = setup_base()
        lead = state["people"][0]
        client = office_client(lead)
        page = reverse("desk:page")
        rows, problems = [], []
        with override_settings(ROOT_URLCONF="urls", ALLOWED_HOSTS=["testserver", "127.0.0.1"]):
            http = HttpBench()
            cookies = cookie_header(client)
            for size in sorted(args.sizes):
                build(size, state)
                if connection.vendor == "postgresql":
                    with connection.cursor() as cursor:
                        cursor.execute("ANALYZE")
                mine_open = Promise.objects.filter(owner=lead, state="open").count()
                baseline_ms, _bq, baseline_cpu = over_http(http, "/bench/minimal/", cookies, args.runs)
                desk_ms, desk_q, desk_cpu = over_http(http, page, cookies, args.runs)
                team_ms, team_q, team_cpu = over_http(http, f"{page}?view=team", cookies, args.runs)
                count_ms, count_q, _cpu = timed_with_queries(lambda: desk_counts(lead), args.runs)
                rows.append(
                    (size, mine_open, baseline_ms, desk_ms, desk_q, team_ms, team_q, count_ms, count_q)
                    + (baseline_cpu, desk_cpu, team_cpu)
                )
            http.close()
        print(
            f"Database: {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}, {OFFICE_PEOPLE} office people,"
            f" {CUSTOMERS:,} customers, {CLOSED_PER_OPEN} closed promises per open one, online changes a tenth of"
            f" the open promises; median of {args.runs} runs.\nMy desk as a lead sees it (the lead owns about"
            f" 1/{OFFICE_PEOPLE} of the promises); team: ?view=team with the count per person. Pages and baseline"
            f" over HTTP (a server thread, one kept-alive connection, the lead's session).\n"
        )
        header = (
            f"{'open promises':>13} {'mine':>5}  {'baseline ms':>11}  {'desk ms':>8} {'q':>3} {'vs base':>7}  "
            f"{'team ms':>8} {'q':>3} {'vs base':>7}  {'nav count ms':>12} {'q':>2}"
        )
        print(header)
        print("-" * len(header))
        for size, mine, base, desk, dq, team, tq, count_ms, cq, *_cpu in rows:
            print(
                f"{size:>13,} {mine:>5,}  {base:>11.2f}  {desk:>8.2f} {dq:>3} {desk / base:>6.1f}x  "
                f"{team:>8.2f} {tq:>3} {team / base:>6.1f}x  {count_ms:>12.2f} {cq:>2}"
            )
        if rows:
            size, _mine, base, desk, _dq, team, _tq, *_rest, base_cpu, desk_cpu, team_cpu = rows[-1]
            for label, ms, cpu in (("My desk", desk, desk_cpu), ("team view", team, team_cpu)):
                verdict = "met" if ms / base <= PAGE_TARGET else "NOT met"
                print(
                    f"\nTarget at {size:,}: {label} ≤ {PAGE_TARGET}x the baseline over HTTP:"
                    f" {ms / base:.1f}x, {verdict} (CPU {cpu:.2f} ms vs {base_cpu:.2f} ms: {cpu / base_cpu:.1f}x)",
                    end="",
                )
            print()
        for label, column in (("My desk", 4), ("team view", 6), ("navigation count", 8)):
            counts = {row[column] for row in rows}
            if len(counts) > 1:
                problems.append(f"{label} query count grows with promises: {sorted(counts)}")
        print(f"\nTotal {time.perf_counter() - started:.1f} s")
        for problem in problems:
            print(f"FAIL {problem}")
        return 1 if problems else 0
    finally:
        shutil.rmtree(var_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

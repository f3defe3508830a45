"""`make bench`, part 4: "we were here" cards as PDF.

Times, in one run: WeasyPrint rendering a minimal one-page A6 document (the
baseline, called the plain way), one missed-visit card, and a day pack of 30
cards. One card should cost at most 1.5x the minimal document; the pack is
reported per card. For reference it also times the minimal document with a
reused URL fetcher, as the cards use one: WeasyPrint's default builds a new
fetcher per document, and that alone (urllib's SSL context) is a large part
of the baseline.

    .venv/bin/python bench/cards.py
    .venv/bin/python bench/cards.py --runs 5 --pack 10

Exits non-zero only when rendering fails or a PDF is not what it should be;
a missed speed target is printed, not failed (the machine may just be busy).
"""

import argparse
import io
import logging
import shutil
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import prepare_environment  # noqa: E402  (bench/run.py: own temp database)
from timing import median_ms  # noqa: E402  (bench/timing.py)

TARGET_RATIO = 1.5
MINIMAL_HTML = "<!DOCTYPE html><style>@page { size: A6 }</style><p>Hello</p>"


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15, help="timed renderings of each (default 15)")
    parser.add_argument("--warmups", type=int, default=2, help="untimed renderings first (default 2)")
    parser.add_argument("--pack", type=int, default=30, help="visits in the day pack (default 30)")
    args = parser.parse_args(argv)
    if args.runs < 1 or args.warmups < 0 or not 1 <= args.pack <= 72:
        parser.error("need at least 1 run and 1–72 visits in the pack")
    return args


def setup_data(pack_size: int) -> dict:
    """A firm, an office person, a technician with a missed visit yesterday and `pack_size` visits tomorrow."""
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.utils import timezone

    from appointments.models import Appointment, AppointmentStatus, ServiceType, Technician, VisitAttempt
    from customers.models import Customer, Firm, OfficeProfile

    call_command("migrate", verbosity=0)
    User = get_user_model()
    office = User.objects.create_user(
        "office", "sandra@bench.example", "x", is_staff=True, first_name="Sandra", last_name="Brinkmann"
    )
    OfficeProfile.objects.create(user=office, direct_phone="+492821123456")
    Firm.objects.create(
        name="Haustechnik Bench GmbH",
        email="office@bench.example",
        phone="+492821100000",
        street="Hafenstraße 1",
        postcode="47533",
        city="Kleve",
        website="https://bench.example",
    )
    service_type = ServiceType.objects.create(
        name="Boiler maintenance", name_de="Heizungswartung", name_nl="CV-onderhoud", arrival_window=timedelta(hours=2)
    )
    user = User.objects.create_user("tech", is_staff=True)
    technician = Technician.objects.create(user=user, display_name="Jan Verhaag", mobile_phone="+4915112345678")
    languages = ["de", "nl", "en"]
    customers = Customer.objects.bulk_create(
        Customer(
            full_name=f"Kundin Nummer {index}",
            street=f"Hafenstraße {index}",
            postcode="47533",
            city="Kleve",
            preferred_language=languages[index % 3],
            responsible=office,
        )
        for index in range(pack_size + 1)
    )

    def visit(customer, start, status, length=timedelta(hours=2)):
        return Appointment(
            customer=customer,
            technician=technician,
            service_type=service_type,
            site_street=customer.street,
            site_postcode=customer.postcode,
            site_city=customer.city,
            window_start=start,
            window_end=start + length,
            expected_duration=min(length, timedelta(hours=1)),
            planned_start=start,
            occupied_until=start + min(length, timedelta(hours=1)),
            status=status,
        )

    today = timezone.localdate()
    day = today + timedelta(days=1)
    # Short back-to-back windows, so even 30 visits fit one day without
    # overlapping (PostgreSQL's exclusion constraint would refuse that).
    slot = timedelta(minutes=15)
    morning = timezone.make_aware(datetime.combine(day, datetime.min.time())) + timedelta(hours=6)
    Appointment.objects.bulk_create(
        visit(customer, morning + slot * index, AppointmentStatus.SCHEDULED, length=slot)
        for index, customer in enumerate(customers[1:])
    )
    yesterday = timezone.make_aware(datetime.combine(today - timedelta(days=1), datetime.min.time()))
    missed = Appointment.objects.bulk_create(
        [visit(customers[0], yesterday + timedelta(hours=8), AppointmentStatus.MISSED)]
    )[0]
    attempt = VisitAttempt.objects.create(
        appointment=missed,
        technician=technician,
        at=yesterday + timedelta(hours=10, minutes=2),
        window_start=missed.window_start,
        window_end=missed.window_end,
        appointment_version=missed.version,
        waited_minutes=10,
        card_left=True,
    )
    return {"technician": technician, "day": day, "attempt_id": attempt.pk}


def pages(pdf: bytes) -> int:
    from pypdf import PdfReader

    return len(PdfReader(io.BytesIO(pdf)).pages)


def main(argv=None) -> int:
    args = parse_args(argv)
    var_dir = prepare_environment()
    started = time.perf_counter()
    try:
        import django

        django.setup()
        # The settings log INFO to the console; WeasyPrint reports every step at INFO.
        logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)
        import weasyprint

        from appointments.cards import FETCHER, render_day_pack, render_missed_card
        from appointments.models import VisitAttempt

        state = setup_data(args.pack)

        def missed_card():
            # Read the attempt afresh each time, as the view does.
            attempt = VisitAttempt.objects.select_related(
                "appointment__customer__responsible__office_profile", "appointment__service_type", "technician"
            ).get(pk=state["attempt_id"])
            return render_missed_card(attempt=attempt)

        measure = {"runs": args.runs, "warmups": args.warmups}
        minimal_ms, minimal_pdf = median_ms(lambda: weasyprint.HTML(string=MINIMAL_HTML).write_pdf(), **measure)
        reused_ms, reused_pdf = median_ms(
            lambda: weasyprint.HTML(string=MINIMAL_HTML, url_fetcher=FETCHER).write_pdf(), **measure
        )
        card_ms, card_pdf = median_ms(missed_card, **measure)
        pack_ms, pack_pdf = median_ms(
            lambda: render_day_pack(technician=state["technician"], day=state["day"]),
            runs=max(1, args.runs // 3),
            warmups=min(1, args.warmups),
        )
        problems = []
        for label, pdf, expected in (
            ("minimal", minimal_pdf, 1),
            ("card", card_pdf, 1),
            ("pack", pack_pdf, args.pack),
        ):
            if not pdf.startswith(b"%PDF-") or pages(pdf) != expected:
                problems.append(f"{label}: expected a PDF of {expected} page(s)")

        ratio = card_ms / minimal_ms
        print(
            f"WeasyPrint {weasyprint.__version__}; median of {args.runs} runs ({max(1, args.runs // 3)} for the pack)"
        )
        print()
        header = f"{'rendering':<28} {'median ms':>10} {'KiB':>7} {'vs minimal':>11}"
        print(header)
        print("-" * len(header))
        rows = (
            ("minimal A6 page (baseline)", minimal_ms, minimal_pdf, 1),
            ("  same, reused fetcher", reused_ms, reused_pdf, 1),
            ("missed card", card_ms, card_pdf, 1),
            (f"day pack, {args.pack} cards", pack_ms, pack_pdf, args.pack),
            ("  per card in the pack", pack_ms / args.pack, pack_pdf, args.pack),
        )
        for label, ms, pdf, count in rows:
            size = len(pdf) / 1024 / (count if label.startswith("  per") else 1)
            print(f"{label:<28} {ms:>10.1f} {size:>7.1f} {ms / minimal_ms:>10.2f}x")
        verdict = "met" if ratio <= TARGET_RATIO else "NOT met"
        print(f"\nCard vs minimal: {ratio:.2f}x (target ≤ {TARGET_RATIO}x): {verdict}")
        print(f"Card vs minimal with a reused fetcher: {card_ms / reused_ms:.2f}x (for reference)")
        print(f"Total {time.perf_counter() - started:.1f} s")
        for problem in problems:
            print(f"FAIL {problem}")
        return 1 if problems else 0
    finally:
        shutil.rmtree(var_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

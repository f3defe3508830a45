"""`make bench`, part 6: a firm's customer spreadsheet of 10,000 rows, previewed and imported.

Times, in one run and one throw-away database: the baseline, a plain import (csv.reader and one
bulk_create, no checks, no journal); reading the file as the admin does (encoding, separator, column
headings); the preview (a dry run: every row checked, duplicates looked up, each customer created through
customers.services with its journal entry, then all rolled back); and the real import. Each figure is
printed with its ratio to the baseline, which is what to compare from one run to the next.

    .venv/bin/python bench/imports.py
    .venv/bin/python bench/imports.py --rows 2000

Exits non-zero only when the import does not create every row or creates a wrong one.
"""

import argparse
import csv
import io
import shutil
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import prepare_environment  # noqa: E402  (bench/run.py: own temp database)
from timing import Stopwatch  # noqa: E402  (bench/timing.py)

HEADINGS = ["Name", "E-Mail", "Telefon", "Straße", "PLZ", "Ort", "Land", "Notizen"]


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10_000, help="rows in the spreadsheet (default 10,000)")
    args = parser.parse_args(argv)
    if args.rows < 10:
        parser.error("at least 10 rows")
    return args


def spreadsheet(rows: int) -> bytes:
    """A German firm's CSV (semicolons, Windows encoding): a tenth of its customers live in the Netherlands."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow(HEADINGS)
    for n in range(rows):
        if n % 10 == 0:
            row = [f"Klant Nummer {n}", f"klant{n}@example.nl", f"06 {10000000 + n}", f"Dorpsstraat {n}", "6561 CA",
                   "Groesbeek", "Nederland", ""]  # fmt: skip
        else:
            row = [f"Kundin Nummer {n}", f"kundin{n}@example.de", f"02821 {100000 + n}", f"Hafenstraße {n}", "47533",
                   "Kleve", "Deutschland", "Hund im Garten" if n % 7 == 0 else ""]  # fmt: skip
        writer.writerow(row)
    return out.getvalue().encode("cp1252")


def setup():
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from customers.models import Firm

    call_command("migrate", verbosity=0)
    Firm.objects.create(name="Bench GmbH", email="office@bench.example", phone="+492821100000")
    return get_user_model().objects.create_user("office", "office@bench.example", "x", is_staff=True)


def plain_import(data: bytes, office) -> int:
    """The baseline: what a one-off script would do, with nothing checked."""
    from customers.models import Customer

    reader = csv.reader(io.StringIO(data.decode("cp1252")), delimiter=";")
    next(reader)
    customers = [
        Customer(full_name=name, email=email, street=street, postcode=postcode, city=city, responsible=office)
        for name, email, _phone, street, postcode, city, _country, _notes in reader
    ]
    Customer.objects.bulk_create(customers, batch_size=1000)
    return len(customers)


def main(argv=None) -> int:
    args = parse_args(argv)
    var_dir = prepare_environment()
    try:
        import django

        django.setup()
        from django.db import transaction
        from django.utils import translation

        from customers.imports import CustomerImportResource, customer_dataset
        from customers.models import Customer
        from journal.models import JournalEntry

        translation.activate("de")
        office = setup()
        data = spreadsheet(args.rows)
        print(f"Customer import: {args.rows:,} rows, {len(data) / 1024 / 1024:.1f} MB CSV (cp1252, semicolons)")

        with Stopwatch() as watch, transaction.atomic():
            plain_import(data, office)
            transaction.set_rollback(True)
        baseline = watch.seconds

        with Stopwatch() as watch:
            dataset = customer_dataset(data)
        reading = watch.seconds

        def run_import(dry_run: bool):
            with Stopwatch() as watch:
                result = CustomerImportResource().import_data(
                    customer_dataset(data),
                    dry_run=dry_run,
                    file_name="kunden.csv",
                    user=office,
                    rollback_on_validation_errors=True,
                )
            return watch.seconds, result

        dry, preview = run_import(True)
        created_in_preview = Customer.objects.count()
        real, imported = run_import(False)

        problems = []
        if preview.has_errors() or preview.has_validation_errors() or imported.has_validation_errors():
            problems.append(f"rows refused: {[row.errors for row in getattr(imported, 'error_rows', [])][:3]}")
        if created_in_preview:
            problems.append(f"the preview left {created_in_preview} customers behind")
        if Customer.objects.count() != args.rows or JournalEntry.objects.count() != args.rows:
            problems.append(f"{Customer.objects.count()} customers, {JournalEntry.objects.count()} journal entries")
        dutch = Customer.objects.get(email="klant0@example.nl")
        if dutch.phone.as_e164 != "+31610000000":
            problems.append(f"a Dutch number was stored as {dutch.phone.as_e164}")

        print()
        header = f"{'step':<44} {'seconds':>8} {'ms/row':>7} {'vs plain':>9}"
        print(header)
        print("-" * len(header))
        for label, seconds in (
            ("plain csv.reader + bulk_create (baseline)", baseline),
            ("reading the file (encoding, headings)", reading),
            ("preview: dry run, rolled back", dry),
            ("import: every row through the service", real),
        ):
            per_row = seconds * 1000 / args.rows
            print(f"{label:<44} {seconds:>8.2f} {per_row:>7.3f} {seconds / baseline:>8.1f}x")
        print(f"\n{len(dataset):,} rows read; preview + import {dry + real:.1f} s in all")
        for problem in problems:
            print(f"FAIL {problem}")
        return 1 if problems else 0
    finally:
        shutil.rmtree(var_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

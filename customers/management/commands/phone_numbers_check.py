"""List customers whose stored phone number may have been read in the wrong country; correct confirmed ones."""

from django.core.management.base import BaseCommand, CommandError

from customers.models import Customer
from customers.selectors import phone_numbers_to_check
from customers.services import CustomerError, customer_phone_reread


class Command(BaseCommand):
    help = (
        "List customers abroad whose phone number, typed without a country code, was read as a number of the "
        "default region (PHONENUMBER_DEFAULT_REGION), with what it would be in the customer's own country. "
        "Changes nothing unless asked: --apply names customers the office has checked, --fix corrects every "
        "number listed. Each correction is journalled on its customer."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--apply",
            nargs="+",
            type=int,
            metavar="CUSTOMER_ID",
            help="Store the number as read in the customer's country for these customers (after checking them).",
        )
        parser.add_argument(
            "--fix",
            action="store_true",
            help="Store every listed number as read in its customer's country (each change is journalled).",
        )

    def handle(self, *args, apply=None, fix=False, **options):
        if apply:
            self._apply(apply)
            return
        if fix:
            self._apply([customer.pk for customer, _candidate in phone_numbers_to_check()])
            return
        found = 0
        for customer, candidate in phone_numbers_to_check():
            found += 1
            self.stdout.write(
                f"{customer.pk}\t{customer.full_name}\t{customer.country}\t"
                f"stored {customer.phone.as_international}\twould be {candidate.as_international}"
            )
        if found:
            self.stdout.write(
                f"{found} customer(s) to check. Ask them or look at their records; then correct the right ones with "
                "--apply CUSTOMER_ID ..., or all of them with --fix (each change is journalled), or edit them in the "
                "admin."
            )
        else:
            self.stdout.write("No phone number reads differently in its customer's country.")

    def _apply(self, ids: list[int]) -> None:
        if not ids:
            self.stdout.write("No phone number reads differently in its customer's country.")
            return
        customers = Customer.objects.in_bulk(ids)
        missing = sorted(set(ids) - set(customers))
        if missing:
            raise CommandError(f"No customer with id {', '.join(map(str, missing))}; nothing changed.")
        errors = []
        for pk in ids:
            try:
                customer = customer_phone_reread(customer=customers[pk], actor=None)
            except CustomerError as exc:
                errors.append(f"{pk}: {exc.message}")
                continue
            self.stdout.write(f"{pk}\t{customer.full_name}\tnow {customer.phone.as_international}")
        if errors:
            raise CommandError("Not changed:\n" + "\n".join(errors))

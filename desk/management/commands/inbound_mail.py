"""Take in one mail from standard input, for an MTA's pipe (Postfix pipe(8), Exim's pipe transport).

The exit status tells the MTA what to do (sysexits.h): 0 stored, 65 (EX_DATAERR) refused for good (the MTA
bounces it to the sender), 75 (EX_TEMPFAIL) try again later (the database was unreachable).
"""

import logging
import sys

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from desk.services import InboundError, inbound_receive

logger = logging.getLogger(__name__)

EX_DATAERR = 65
EX_TEMPFAIL = 75


class Command(BaseCommand):
    help = "Store one mail read from standard input (raw RFC 5322, as an MTA pipes it)."
    # call_command(..., stdin=BytesIO(...)) in tests; the MTA gives the real standard input.
    stealth_options = ("stdin",)

    def add_arguments(self, parser):
        parser.add_argument("--source", default="pipe", help="Recorded as the way the mail came in.")

    def handle(self, *args, **options):
        stream = options.get("stdin") or sys.stdin.buffer
        limit = settings.INBOUND_MAX_MESSAGE_BYTES
        # One byte past the limit is enough to know; a huge mail is never read whole.
        raw = stream.read(limit + 1)
        if len(raw) > limit:
            raise CommandError(f"message larger than {limit} bytes refused", returncode=EX_DATAERR)
        try:
            mail = inbound_receive(raw=raw, source=options["source"])
        except InboundError as error:
            raise CommandError(f"message refused: {error.code}", returncode=EX_DATAERR) from error
        except DatabaseError as error:
            logger.exception("Inbound mail not stored; the MTA will retry")
            raise CommandError(f"database error, try again later: {error}", returncode=EX_TEMPFAIL) from error
        except Exception as error:
            # A bug of ours must not bounce the customer's mail: the MTA keeps it and retries once it is fixed.
            logger.exception("Inbound mail not stored; the MTA will retry")
            raise CommandError(f"internal error, try again later: {error!r}", returncode=EX_TEMPFAIL) from error
        if options["verbosity"] > 1:
            self.stdout.write(f"stored as inbound mail {mail.pk} ({mail.get_status_display()})")

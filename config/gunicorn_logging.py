"""gunicorn's access log without the secrets in our links (config/gunicorn.conf.py: logger_class).

A technician's calendar feed (/technician/feed/<token>.ics) gives anyone with its token the customers' names
and addresses for as long as it lives; booking, feedback and call-back links and the privacy export's ticket
carry theirs in the path or the query string. The line keeps the route (`/technician/feed/<token>.ics`), as
Sentry's events do (config/logging_sentry.py), and, behind our proxy, the visitor's address instead of the proxy's.
"""

from gunicorn.glogging import Logger

from config.logging_sentry import scrub_text
from selfservice.ratelimit import client_ip_in

# The request line, the path, and where the visitor came from (a page with a link's token, often).
SCRUBBED_ATOMS = ("r", "U", "f", "{referer}i")


class AccessLogWithoutSecrets(Logger):
    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        for name in SCRUBBED_ATOMS:
            if atoms.get(name) not in (None, "-"):
                atoms[name] = scrub_text(atoms[name])
        atoms["q"] = ""
        # The address Django's rate limits and sign-in lockouts count: behind our proxy (BEHIND_TLS_PROXY)
        # the one nginx found (config/deploy/nginx.conf.template); without it the peer's own, as any client
        # could write an X-Forwarded-For of its choosing.
        atoms["h"] = client_ip_in(environ) or "-"
        return atoms

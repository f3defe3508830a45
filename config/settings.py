"""Doorstep settings, read from the environment with safe defaults.

The embedded default (nothing set) runs on a SQLite file and a SQLite-backed
Celery broker, so `make run` needs no servers. Production sets DATABASE_URL,
REDIS_URL, SECRET_KEY, ALLOWED_HOSTS, SITE_URL and the mail settings.
"""

import os
import re
import secrets
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

from config.logging_setup import logging_config

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("DOORSTEP_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in (os.environ.get(name) or default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG")

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "insecure-development-key-only-for-debug-and-tests-0123456789"
# Rotating the key: the old one goes here (comma-separated) for as long as what it signed should still work —
# sessions, mail links, reply addresses, printed cards, recovery codes (config/keyed_hashes.py).
SECRET_KEY_FALLBACKS = env_list("SECRET_KEY_FALLBACKS")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
SITE_URL = os.environ.get("SITE_URL", "http://localhost:8000").rstrip("/")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", SITE_URL)

INSTALLED_APPS = [
    "config.admin_config.OfficeAdminConfig",  # the admin for office staff only (not technicians)
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "crispy_forms",
    "crispy_bootstrap5",
    "phonenumber_field",
    "anymail",
    "health_check",
    "import_export",
    "config",
    "customers",
    "appointments",
    "selfservice",
    "technicians",
    "dispatch",
    "journal",
    "notifications",
    "desk",
    "privacy",
    "accounts.lockouts_app.SignInLockoutsConfig",  # django-axes, named for the office
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "accounts",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "config.security.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.middleware.SessionGenerationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, so that it sees the response of the sign-in view and can replace it with the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# Database ------------------------------------------------------------------

DATABASE_URL = os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'doorstep.sqlite3'}"
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE takes SQLite's write lock at BEGIN, so the overlap re-check in
    # appointments.services runs while no other writer can slip in between.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # Threads in tests need a file, not SQLite's per-connection memory database.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-doorstep.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Cache and Celery -----------------------------------------------------------

REDIS_URL = os.environ.get("REDIS_URL", "")
# Redis is never what a customer's page waits for: the cache holds only rate-limit counters (they
# fail open), the version of the working hours, closures and firm the booking pages keep (without an answer
# they read the database and leave Redis alone for a while: appointments.plan_inputs), and a message the
# broker does not take is handed over later by the outbox relay. A stopped Redis refuses at once, but a hung
# one (SIGSTOP, a dropped network path) accepts the connection and never answers: only these timeouts bound
# the wait. A healthy Redis answers in about a millisecond. Sessions live in the database (Django's default
# SESSION_ENGINE), not here.
REDIS_CONNECT_TIMEOUT = float(os.environ.get("REDIS_CONNECT_TIMEOUT", "0.25"))
REDIS_SOCKET_TIMEOUT = float(os.environ.get("REDIS_SOCKET_TIMEOUT", "0.25"))
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            # Passed to redis-py's connection pool. Its connections retry nothing unless told to;
            # retries would only multiply the wait.
            "OPTIONS": {
                "socket_connect_timeout": REDIS_CONNECT_TIMEOUT,
                "socket_timeout": REDIS_SOCKET_TIMEOUT,
                "retry_on_timeout": False,
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Without Redis, Celery uses a SQLite file as its broker: a real worker and
# beat still run, with nothing to install or start.
CELERY_BROKER_URL = REDIS_URL or f"sqla+sqlite:///{VAR_DIR / 'celery-broker.sqlite3'}"
# Bounded so that a broker outage delays work but never hangs a request: one connection attempt
# (max_retries 0), each socket operation within the timeouts above. The worker's BRPOP runs in its
# event loop, where no socket timeout applies (kombu's health_check_interval guards it instead).
CELERY_BROKER_TRANSPORT_OPTIONS = (
    {
        "socket_connect_timeout": REDIS_CONNECT_TIMEOUT,
        "socket_timeout": REDIS_SOCKET_TIMEOUT,
        "retry_on_timeout": False,
        "max_retries": 0,
    }
    if REDIS_URL
    else {}
)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_TIMEOUT = REDIS_CONNECT_TIMEOUT if REDIS_URL else 2
# Publishing happens after a booking commits; with the broker down it must give
# up quickly (the outbox relay hands the message over later), not hang the request.
CELERY_TASK_PUBLISH_RETRY = False
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 0}
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Periodic jobs (CELERY_BEAT_SCHEDULE, below) are beat entries in UTC.
CELERY_TIMEZONE = "UTC"
CELERY_ENABLE_UTC = True
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_TASK_ALWAYS_EAGER = False

# Mail ---------------------------------------------------------------------


def mailer_from_env() -> dict:
    """EMAIL_URL (smtp://user:pass@host:port?tls=1, console:// for whole mails) or EMAIL_HOST/EMAIL_PORT;
    else one line per mail on the console."""
    email_url = os.environ.get("EMAIL_URL", "")
    if email_url:
        parts = urlsplit(email_url)
        query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
        if parts.scheme == "console":
            return {"BACKEND": "django.core.mail.backends.console.EmailBackend"}
        return {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": parts.hostname or "localhost",
                "port": parts.port or (465 if parts.scheme == "smtps" else 25),
                "username": unquote(parts.username or ""),
                "password": unquote(parts.password or ""),
                "use_ssl": parts.scheme == "smtps",
                "use_tls": query.get("tls", "") in {"1", "true"} or parts.scheme == "submission",
                "timeout": 20,
            },
        }
    if os.environ.get("EMAIL_HOST"):
        return {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": os.environ["EMAIL_HOST"],
                "port": int(os.environ.get("EMAIL_PORT", "25")),
                "username": os.environ.get("EMAIL_HOST_USER", ""),
                "password": os.environ.get("EMAIL_HOST_PASSWORD", ""),
                "use_tls": env_bool("EMAIL_USE_TLS"),
                "use_ssl": env_bool("EMAIL_USE_SSL"),
                "timeout": 20,
            },
        }
    # No mail server: one line per mail on the console; each mail in full is in the admin's outbox.
    return {"BACKEND": "notifications.backends.ConsoleSummaryBackend"}


MAILERS = {"default": mailer_from_env()}
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Doorstep <office@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Auth ---------------------------------------------------------------------

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "admin:login"
# Where the office lands after signing in when `next` is missing or points elsewhere (off-site).
LOGIN_REDIRECT_URL = "admin:index"
# Staff sign-in (accounts/): throttling, two factors for the office, technicians' long sessions. Axes
# first: it refuses a locked-out user and IP before any password is checked. ModelBackend last only for the
# sessions signed in before StaffBackend (a session names the backend that signed it in).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "accounts.backends.StaffBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=float(os.environ.get("AXES_COOLOFF_MINUTES", "15")))
# Both together: an attacker guessing one user's password locks out neither the colleague behind the same
# office router nor that user on another network.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# X-Forwarded-For only behind our own proxy (BEHIND_TLS_PROXY): otherwise anyone could name a new address per guess.
AXES_CLIENT_IP_CALLABLE = "selfservice.ratelimit.client_ip"
AXES_LOCKOUT_CALLABLE = "accounts.lockout.lockout_response"
# A sign-in counts as a success only once complete: after the code where one is asked (accounts.lockout).
# Reset at the password step, wrong codes would be forgotten each time the password is typed again.
AXES_RESET_ON_SUCCESS = False
# Not stored with a failed attempt: a mistyped recovery code is most of a valid one.
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "code"]
AXES_VERBOSE = False
# Superusers always need a second factor (an authenticator app); with this on, every office user does.
OFFICE_REQUIRE_2FA = env_bool("OFFICE_REQUIRE_2FA")
OTP_TOTP_ISSUER = os.environ.get("OTP_TOTP_ISSUER", "Doorstep")
# django-otp doubles the wait after each wrong code (1 s, 2 s, 4 s, ...) for the app and the recovery codes
# alike, without end: someone with the password alone could shut the user out for months. The doubling stops
# before the wait passes this (with 15 minutes: at 512 s); the lockout by user and address (axes) does the rest.
TWO_FACTOR_MAX_WAIT = timedelta(minutes=float(os.environ.get("TWO_FACTOR_MAX_WAIT_MINUTES", "15")))
# A technician's phone stays signed in this long (office sessions keep Django's two weeks); "Sign out
# all devices" in the admin ends every session of a user at once.
TECHNICIAN_SESSION_AGE = int(float(os.environ.get("TECHNICIAN_SESSION_DAYS", "30")) * 86400)

# Languages and time ---------------------------------------------------------

LANGUAGE_CODE = os.environ.get("LANGUAGE_CODE", "de")
LANGUAGES = [("de", _("German")), ("nl", _("Dutch")), ("en", _("English"))]
# The project's catalogs first (makemessages writes there), then translations of Django's own strings
# that Django's catalogs lack (see config/locale_django/de/LC_MESSAGES/django.po).
LOCALE_PATHS = [BASE_DIR / "config" / "locale", BASE_DIR / "config" / "locale_django"]
TIME_ZONE = os.environ.get("TIME_ZONE", "Europe/Berlin")
USE_I18N = True
USE_TZ = True
PHONENUMBER_DEFAULT_REGION = os.environ.get("PHONENUMBER_DEFAULT_REGION", "DE")
PHONENUMBER_DB_FORMAT = "E164"
PHONENUMBER_DEFAULT_FORMAT = "INTERNATIONAL"

# Static files -------------------------------------------------------------

STATIC_URL = "static/"
# Collected into the image (Dockerfile), never into var/: var/ is a volume in docker-compose.yml, and a volume
# keeps the files of the build that created it, so every upgrade would serve the first build's manifest.
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# Security -------------------------------------------------------------------

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("BEHIND_TLS_PROXY") else None
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
# Monitors and health checks ask over plain http (on the host's loopback, nginx says so), and a redirect
# is no answer to them; neither page sets a cookie or shows anything personal.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "0" if DEBUG else "31536000"))
# Off unless asked for: on a firm's main domain (doorstep.firm.example) includeSubDomains would force https on
# every other host of the firm, and preload cannot be taken back quickly.
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS")
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD")
# `check --deploy` recommends both (W005, W021); for Doorstep they are the operator's choice, above.
SILENCED_SYSTEM_CHECKS = ["security.W005", "security.W021"]
SECURE_REFERRER_POLICY = "same-origin"
# Sessions live in the database (Django's default engine), never in Redis: a cache outage must not
# lose a customer's open links. A daily beat job deletes expired ones. Office staff and technicians
# keep Django's two weeks; a session that only holds a customer's links lives this long (a mail
# scanner opens every link, and each open writes a session). The mail's link opens the page again.
CUSTOMER_SESSION_AGE = int(os.environ.get("CUSTOMER_SESSION_AGE_HOURS", "24")) * 3600
X_FRAME_OPTIONS = "DENY"
# Scripts and stylesheets only from our own static files: no inline script, no inline <style> or style
# attribute, no eval. Two pages allow style attributes (config.security.allow_style_attributes): the board,
# which places each block at its minute of the day, and the outbox's mail preview, whose mails carry their
# styles inline for mail clients. Images also from data: URIs (Bootstrap draws its form controls' arrows
# and ticks with them).
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    # Where browsers report what the policy blocked, e.g. Sentry's security endpoint (empty: nowhere).
    "report-uri": os.environ.get("CSP_REPORT_URI") or None,
}
# Browser features no page uses are off for every page and anything it embeds; the technician's not-home
# page turns geolocation on for itself (config.security.permissions_policy).
PERMISSIONS_POLICY = {
    feature: []
    for feature in (
        "accelerometer camera display-capture geolocation gyroscope magnetometer microphone midi payment usb"
    ).split()
}
# A refused form gets a friendly page in the customer's language, not Django's page about DEBUG.
CSRF_FAILURE_VIEW = "config.views.csrf_failure"

# One line per record with time, level and logger, as JSON lines with LOG_FORMAT=json; web (runserver and
# gunicorn, see gunicorn.conf.py), worker and beat (config/celery.py) log the same way.
LOGGING = logging_config(
    log_format=os.environ.get("LOG_FORMAT", "text"),
    level=os.environ.get("LOG_LEVEL", "INFO"),
    task_level=os.environ.get("CELERY_TASK_LOG_LEVEL", "INFO"),
)
# Errors to Sentry when SENTRY_DSN is set; nothing personal is sent (config/logging_sentry.py).
SENTRY_DSN = os.environ.get("SENTRY_DSN", "")
if SENTRY_DSN:
    from config.logging_sentry import init_sentry

    init_sentry(
        dsn=SENTRY_DSN,
        environment=os.environ.get("SENTRY_ENVIRONMENT", "production"),
        release=os.environ.get("SENTRY_RELEASE") or None,
    )

# Notifications ------------------------------------------------------------------

# Reminders go out the day before at this local wall-clock time ("" to turn off)
# and/or this many hours before the window opens ("" to turn off).
REMINDER_DAY_BEFORE_AT = os.environ.get("REMINDER_DAY_BEFORE_AT", "18:00")
REMINDER_HOURS_BEFORE = int(os.environ["REMINDER_HOURS_BEFORE"]) if os.environ.get("REMINDER_HOURS_BEFORE") else None
OUTBOX_MAX_ATTEMPTS = int(os.environ.get("OUTBOX_MAX_ATTEMPTS", "6"))
# The office sees a banner, and /readyz fails, when a message failed within this many hours or one that was due
# has waited longer than this many minutes (the worker or beat is down, the broker unreachable).
OUTBOX_ALERT_FAILED_WITHIN = timedelta(hours=float(os.environ.get("OUTBOX_ALERT_FAILED_HOURS", "24")))
OUTBOX_STUCK_AFTER = timedelta(minutes=float(os.environ.get("OUTBOX_STUCK_MINUTES", "15")))
# /readyz fails when this many messages failed or wait for a retry after an error (the banner shows even one).
OUTBOX_READY_MAX_FAILING = int(os.environ.get("OUTBOX_READY_MAX_FAILING", "5"))
# /readyz fails when no worker has run beat's one-minute heartbeat job for this long.
WORKER_HEARTBEAT_MAX_AGE = timedelta(minutes=float(os.environ.get("WORKER_HEARTBEAT_MAX_MINUTES", "3")))
# Where customers' replies go, with "{token}" naming the message replied to, e.g.
# "office+{token}@mail.firm.example" (a catch-all or plus-address that reaches the inbound path).
# Empty: Reply-To is the customer's contact person.
INBOUND_REPLY_ADDRESS = os.environ.get("INBOUND_REPLY_ADDRESS", "").strip()
if INBOUND_REPLY_ADDRESS and INBOUND_REPLY_ADDRESS.count("{token}") != 1:
    raise ImproperlyConfigured("INBOUND_REPLY_ADDRESS must contain {token} exactly once.")
# django-anymail's webhooks under /anymail/ (bounces and complaints: /anymail/<provider>/tracking/).
# Every ANYMAIL_<NAME> variable becomes ANYMAIL["<NAME>"]: ANYMAIL_WEBHOOK_SECRET ("user:password", the
# basic auth the provider is given; comma-separated while rotating), ANYMAIL_MAILGUN_WEBHOOK_SIGNING_KEY, …


def anymail_from_env(environ) -> dict:
    """ANYMAIL from ANYMAIL_* variables. Without a webhook secret every webhook stays shut: anymail would
    otherwise accept unauthenticated posts from anyone for providers that sign nothing (it only warns)."""
    anymail = {
        name.removeprefix("ANYMAIL_"): value
        for name, value in sorted(environ.items())
        if name.startswith("ANYMAIL_") and value
    }
    secrets_given = [secret.strip() for secret in anymail.get("WEBHOOK_SECRET", "").split(",") if secret.strip()]
    # A random one nobody knows (and no "user:password" form, so no basic auth ever matches it).
    anymail["WEBHOOK_SECRET"] = secrets_given or [secrets.token_urlsafe(32)]
    return anymail


ANYMAIL = anymail_from_env(os.environ)
CELERY_BEAT_SCHEDULE = {
    "outbox-relay": {"task": "notifications.tasks.relay_outbox", "schedule": 60.0},
    "reminder-sweep": {"task": "notifications.tasks.sweep_reminders", "schedule": 300.0},
    "missed-visit-follow-ups": {"task": "appointments.tasks.flag_missed_follow_ups", "schedule": 900.0},
    "promise-warnings": {"task": "desk.tasks.warn_about_promises", "schedule": 300.0},
    "feedback-requests": {"task": "desk.tasks.queue_feedback_requests", "schedule": 900.0},
    "heartbeat": {"task": "config.tasks.record_heartbeat", "schedule": 60.0},
    # Import uploads hold personal data: gone a day after the upload even when nobody imports again.
    "import-uploads": {"task": "customers.tasks.remove_old_import_uploads", "schedule": 3600.0},
    # At night in Europe, when nobody books. Retention (privacy.tasks): what is no longer needed goes.
    "expire-door-locations": {"task": "privacy.tasks.expire_door_locations", "schedule": crontab(hour=2, minute=40)},
    "expire-message-bodies": {"task": "privacy.tasks.expire_message_bodies", "schedule": crontab(hour=2, minute=50)},
    "expire-sign-in-records": {"task": "privacy.tasks.expire_sign_in_records", "schedule": crontab(hour=2, minute=55)},
    "clear-expired-sessions": {"task": "config.tasks.clear_expired_sessions", "schedule": crontab(hour=2, minute=30)},
}

# Personal data: door locations and the kept copies of sent mails are deleted after this many days.
LOCATION_RETENTION_DAYS = int(os.environ.get("LOCATION_RETENTION_DAYS", "90"))
MESSAGE_BODY_RETENTION_DAYS = int(os.environ.get("MESSAGE_BODY_RETENTION_DAYS", "365"))
# django-axes' records of staff sign-ins (address, browser) and failed ones are deleted after this many days.
SIGN_IN_RECORD_RETENTION_DAYS = int(os.environ.get("SIGN_IN_RECORD_RETENTION_DAYS", "90"))

# Missed visits ------------------------------------------------------------------

# A missed visit nobody rebooked within this many days goes to the office's follow-up queue.
MISSED_FOLLOW_UP_AFTER_DAYS = int(os.environ.get("MISSED_FOLLOW_UP_AFTER_DAYS", "3"))

# Self-service booking -------------------------------------------------------------

BOOKING_MIN_NOTICE_DAYS = int(os.environ.get("BOOKING_MIN_NOTICE_DAYS", "1"))
BOOKING_HORIZON_WEEKS = int(os.environ.get("BOOKING_HORIZON_WEEKS", "6"))
BOOKING_DAY_STARTS_AT = os.environ.get("BOOKING_DAY_STARTS_AT", "08:00")
BOOKING_DAY_ENDS_AT = os.environ.get("BOOKING_DAY_ENDS_AT", "18:00")
# Customers move or cancel a visit online only until this many hours before its window opens (0: until it
# opens); after that the page gives the responsible person's phone. Missed visits are rebooked at any time.
BOOKING_CHANGE_CUTOFF_HOURS = int(os.environ.get("BOOKING_CHANGE_CUTOFF_HOURS", "12"))
if BOOKING_CHANGE_CUTOFF_HOURS < 0:
    raise ImproperlyConfigured("BOOKING_CHANGE_CUTOFF_HOURS must be 0 or more.")
# Per 10 minutes: wrong or dead links per IP; booking/changing POSTs per visit or invitation (selfservice.views).
RATELIMIT_BAD_LINKS = int(os.environ.get("RATELIMIT_BAD_LINKS", "20"))
RATELIMIT_BOOKING_POSTS = int(os.environ.get("RATELIMIT_BOOKING_POSTS", "30"))
RATELIMIT_PERIOD_SECONDS = 600

# The office desk (promises, requests, inbound mail, feedback) ----------------------------------------

# The office's hours, Monday first, "HH:MM-HH:MM" or "" for a closed day; comma-separated in the
# environment. Deadlines below count only these hours, never public holidays or the firm's closures.
OFFICE_HOURS = [
    part.strip()
    for part in os.environ.get("OFFICE_HOURS", "08:00-17:00,08:00-17:00,08:00-17:00,08:00-17:00,08:00-17:00,,").split(
        ","
    )
]
if len(OFFICE_HOURS) != 7:
    raise ImproperlyConfigured("OFFICE_HOURS needs seven comma-separated entries, Monday first.")
# In office hours: a web request is called back, an email answered, feedback answered within these.
# 9 hours of an 08:00-17:00 office is one working day.
REQUEST_CALLBACK_WITHIN = timedelta(hours=float(os.environ.get("REQUEST_CALLBACK_WITHIN_HOURS", "9")))
REPLY_WITHIN = timedelta(hours=float(os.environ.get("REPLY_WITHIN_HOURS", "9")))
FEEDBACK_REPLY_WITHIN = timedelta(hours=float(os.environ.get("FEEDBACK_REPLY_WITHIN_HOURS", "18")))
# The owner is told this long before a promise is due; a lead this many office hours after it was due.
PROMISE_DUE_SOON = timedelta(hours=float(os.environ.get("PROMISE_DUE_SOON_HOURS", "1")))
PROMISE_ESCALATE_AFTER = timedelta(hours=float(os.environ.get("PROMISE_ESCALATE_AFTER_HOURS", "4")))
# The staff group whose members are told of promises left late (Django admin › Groups).
DESK_LEADS_GROUP = os.environ.get("DESK_LEADS_GROUP", "Office leads")

# Mail that comes in (the `inbound_mail` pipe command and anymail's inbound webhooks) --------------

# Uploaded and received files (inbound attachments under inbound/); served only through views that check
# who asks, never as static files.
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
MEDIA_URL = "/media/"
# Customer spreadsheets imported in the admin: a larger upload is refused while it arrives, never stored.
IMPORT_MAX_UPLOAD_MB = int(os.environ.get("IMPORT_MAX_UPLOAD_MB", "10"))
# Preview and import each run within one request and must end well inside GUNICORN_TIMEOUT (30 s): make bench
# measured about 11 s each for 10,000 rows on one core. The office splits a larger spreadsheet (10 MB of CSV
# can hold 100,000 rows).
IMPORT_MAX_ROWS = int(os.environ.get("IMPORT_MAX_ROWS", "10000"))
# A larger mail is refused before it is read (the pipe exits 65, the MTA bounces it to the sender).
INBOUND_MAX_MESSAGE_BYTES = int(os.environ.get("INBOUND_MAX_MESSAGE_BYTES", str(40 * 1024 * 1024)))
# A larger attachment, one past the count, or one of another type is noted as refused; the mail is kept.
INBOUND_MAX_ATTACHMENT_BYTES = int(os.environ.get("INBOUND_MAX_ATTACHMENT_BYTES", str(10 * 1024 * 1024)))
INBOUND_MAX_ATTACHMENTS = int(os.environ.get("INBOUND_MAX_ATTACHMENTS", "10"))
# Kept types (shell patterns): documents, pictures, text. SVG (it can hold script) and executables are not.
INBOUND_ALLOWED_ATTACHMENT_TYPES = env_list(
    "INBOUND_ALLOWED_ATTACHMENT_TYPES",
    "application/pdf,image/jpeg,image/png,image/gif,image/webp,image/heic,image/heif,image/tiff,image/bmp,"
    "text/plain,text/csv,text/calendar,application/rtf,message/rfc822,"
    "application/msword,application/vnd.ms-excel,application/vnd.ms-powerpoint,"
    "application/vnd.openxmlformats-officedocument.*,application/vnd.oasis.opendocument.*",
)
# A completed visit's feedback request goes out this long after completion (the sweep runs every 15 minutes).
FEEDBACK_REQUEST_DELAY = timedelta(minutes=float(os.environ.get("FEEDBACK_REQUEST_DELAY_MINUTES", "120")))
# Requests from the firm's website (/request/) --------------------------------------------------------

# Sites that may show the request page in an iframe, e.g. "https://www.firm.example" (comma-separated).
# Empty: the page may not be framed at all (X-Frame-Options DENY, as every other page).
REQUEST_FRAME_ORIGINS = env_list("REQUEST_FRAME_ORIGINS")
for _origin in REQUEST_FRAME_ORIGINS:
    # Only scheme://host[:port]: the value goes into a response header as it is.
    if not re.fullmatch(r"https?://[A-Za-z0-9.-]+(:\d+)?", _origin):
        raise ImproperlyConfigured(
            f"REQUEST_FRAME_ORIGINS: {_origin!r} is not an origin like https://www.firm.example"
        )
# A form sent sooner than this after the page was shown was filled in by a program.
REQUEST_MIN_FILL_SECONDS = float(os.environ.get("REQUEST_MIN_FILL_SECONDS", "3"))
# Requests sent per IP in RATELIMIT_PERIOD_SECONDS.
RATELIMIT_REQUEST_POSTS = int(os.environ.get("RATELIMIT_REQUEST_POSTS", "10"))

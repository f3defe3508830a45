import logging.config
import os

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("doorstep")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


if app.conf.broker_url.startswith("sqla+"):
    # The embedded SQLite broker polls; kombu's default of one second per poll
    # would let a worker send about one mail a second. Not a transport option:
    # kombu's SQLAlchemy transport hands those to create_engine(), which refuses it.
    from kombu.transport import sqlalchemy as sqlalchemy_transport

    sqlalchemy_transport.Transport.polling_interval = 0.1


# The timeouts in settings are for the web process, whose publish must give up before a customer
# notices (the relay hands the message over later). A worker or beat is nobody's request: a Redis
# that is slow for a moment should not make a worker restart its consumer or beat skip a job.
PATIENT_SOCKET_TIMEOUT = 5.0


def _be_patient(conf) -> None:
    options = conf.broker_transport_options or {}
    if options.get("socket_timeout") is not None:
        conf.broker_transport_options = {
            **options,
            "socket_connect_timeout": max(options.get("socket_connect_timeout") or 0, PATIENT_SOCKET_TIMEOUT),
            "socket_timeout": max(options["socket_timeout"], PATIENT_SOCKET_TIMEOUT),
        }


@signals.celeryd_init.connect
def _patient_worker(conf, **kwargs):
    _be_patient(conf)


@signals.beat_init.connect
def _patient_beat(sender, **kwargs):
    _be_patient(sender.app.conf)


@signals.setup_logging.connect
def _logging_as_configured(**kwargs):
    """Worker and beat log through settings.LOGGING, as the web process does. With a receiver here Celery
    leaves logging alone; without one it replaces the root logger's handlers with its own format."""
    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)

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
# notices (the relay hands the message over later). A worker is nobody's request: a Redis that is
# slow for a moment should not make it drop its connection and restart its consumer.
WORKER_SOCKET_TIMEOUT = 5.0


@signals.celeryd_init.connect
def _patient_worker(conf, **kwargs):
    options = conf.broker_transport_options or {}
    if options.get("socket_timeout") is not None:
        conf.broker_transport_options = {
            **options,
            "socket_connect_timeout": max(options.get("socket_connect_timeout") or 0, WORKER_SOCKET_TIMEOUT),
            "socket_timeout": max(options["socket_timeout"], WORKER_SOCKET_TIMEOUT),
        }

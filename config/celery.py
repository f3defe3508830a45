import os

from celery import Celery

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

import os
import time

from django.conf import settings as django_settings

from config.celery import app
from customers.import_uploads import KEEP_UPLOADS_SECONDS, ImportUploadStorage
from customers.tasks import remove_old_import_uploads


def test_beat_deletes_import_uploads_older_than_a_day_even_when_nobody_uploads_again(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    folder = ImportUploadStorage.folder()
    old, fresh = os.path.join(folder, "customers-old"), os.path.join(folder, "customers-fresh")
    for path in (old, fresh):
        with open(path, "w") as file:
            file.write("Anna Beispielfrau;Geheimweg 17")
    day_and_a_bit_ago = time.time() - KEEP_UPLOADS_SECONDS - 60
    os.utime(old, (day_and_a_bit_ago, day_and_a_bit_ago))

    assert remove_old_import_uploads() == 1

    assert not os.path.exists(old)
    assert os.path.exists(fresh)


def test_the_upload_cleanup_is_in_the_hourly_beat_schedule():
    entry = next(
        entry
        for entry in django_settings.CELERY_BEAT_SCHEDULE.values()
        if entry["task"] == remove_old_import_uploads.name
    )
    assert entry["schedule"] <= 3600
    assert remove_old_import_uploads.name in app.tasks

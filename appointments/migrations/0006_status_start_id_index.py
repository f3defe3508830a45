# The status index in the list's order (window_start, id): a status's first page comes straight off the index.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("appointments", "0005_new_time_requested"),
    ]

    operations = [
        # The new index first, so the list is never without one while the old is dropped.
        migrations.AddIndex(
            model_name="appointment",
            index=models.Index(fields=["status", "window_start", "id"], name="appointment_status_order_idx"),
        ),
        migrations.RemoveIndex(
            model_name="appointment",
            name="appointment_status_start_idx",
        ),
    ]

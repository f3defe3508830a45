# The visits still to come, in the appointment list's order (see the comment in Appointment.Meta.indexes).

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("appointments", "0005_new_time_requested"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="appointment",
            index=models.Index(
                condition=models.Q(("status__in", ["requested", "scheduled", "en_route", "on_site", "new_time"])),
                fields=["window_start", "id"],
                name="appointment_open_start_idx",
            ),
        ),
    ]

"""The plan's rules, once every visit has one (a migration of its own: PostgreSQL will not alter a table
with the previous migration's row updates pending in the same transaction)."""

from django.db import migrations, models
from django.db.models import F

from appointments.migrations._overlap import add_exclusion_on_plan, drop_exclusion


class Migration(migrations.Migration):
    dependencies = [("appointments", "0007_planned_slot")]

    operations = [
        migrations.AlterField(
            model_name="appointment",
            name="planned_start",
            field=models.DateTimeField(verbose_name="planned start"),
        ),
        migrations.AlterField(
            model_name="appointment",
            name="occupied_until",
            field=models.DateTimeField(editable=False, verbose_name="busy until (with buffer)"),
        ),
        migrations.AddConstraint(
            model_name="appointment",
            constraint=models.CheckConstraint(
                condition=models.Q(planned_start__gte=F("window_start"), planned_start__lt=F("window_end")),
                name="appointment_planned_inside_window",
            ),
        ),
        migrations.AddConstraint(
            model_name="appointment",
            constraint=models.CheckConstraint(
                condition=models.Q(occupied_until__gt=F("planned_start")), name="appointment_busy_after_start"
            ),
        ),
        migrations.AddIndex(
            model_name="appointment",
            index=models.Index(fields=["technician", "planned_start"], name="appointment_tech_planned_idx"),
        ),
        migrations.RunPython(add_exclusion_on_plan, drop_exclusion, elidable=False),
    ]

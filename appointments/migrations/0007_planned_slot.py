"""A visit's plan inside its promised window: planned_start, and the busy range moves to the plan.

Until now a visit reserved its technician for the whole arrival window. Existing visits are
planned at their window's start; the technician is busy for the expected duration plus the
service's buffer from then. The new ranges lie inside the old ones (a job and buffer longer than
the window were already covered), so no two active visits can meet when the constraint returns.
"""

from django.db import migrations, models
from django.db.models import ExpressionWrapper, F, Value

from appointments.migrations._overlap import add_exclusion_on_window, drop_exclusion

def plan_at_window_start(apps, schema_editor):
    Appointment = apps.get_model("appointments", "Appointment")
    ServiceType = apps.get_model("appointments", "ServiceType")
    for service_type in ServiceType.objects.all():
        Appointment.objects.filter(service_type=service_type).update(
            planned_start=F("window_start"),
            occupied_until=ExpressionWrapper(
                F("window_start") + F("expected_duration") + Value(service_type.buffer_after),
                output_field=models.DateTimeField(),
            ),
        )


def reserve_whole_window(apps, schema_editor):
    Appointment = apps.get_model("appointments", "Appointment")
    ServiceType = apps.get_model("appointments", "ServiceType")
    for service_type in ServiceType.objects.all():
        needed = service_type.duration + service_type.buffer_after
        for appointment in Appointment.objects.filter(service_type=service_type).iterator():
            appointment.occupied_until = max(appointment.window_end, appointment.window_start + needed)
            appointment.save(update_fields=["occupied_until"])


class Migration(migrations.Migration):
    dependencies = [("appointments", "0006_open_visits_index")]

    operations = [
        migrations.RunPython(drop_exclusion, add_exclusion_on_window, elidable=False),
        migrations.RemoveConstraint(model_name="appointment", name="appointment_occupied_covers_window"),
        migrations.AddField(
            model_name="appointment",
            name="planned_start",
            field=models.DateTimeField(null=True, verbose_name="planned start"),
        ),
        migrations.RunPython(plan_at_window_start, reserve_whole_window, elidable=False),
    ]

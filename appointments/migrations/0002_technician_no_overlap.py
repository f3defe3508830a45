"""No two active appointments of one technician may overlap.

PostgreSQL enforces it with an exclusion constraint over the reserved range
[window_start, occupied_until), half-open so back-to-back visits fit. SQLite has
no such constraint: there, every write runs in an IMMEDIATE transaction and the
service re-checks under that lock (see appointments.services).
"""

from django.contrib.postgres.operations import BtreeGistExtension
from django.db import migrations

CONSTRAINT = "appointment_technician_no_overlap"


def add_constraint(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f"""
        ALTER TABLE appointments_appointment ADD CONSTRAINT {CONSTRAINT}
        EXCLUDE USING gist (
            technician_id WITH =,
            tstzrange(window_start, occupied_until, '[)') WITH &&
        )
        WHERE (technician_id IS NOT NULL
               AND status IN ('requested', 'scheduled', 'en_route', 'on_site'))
        """
    )


def drop_constraint(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"ALTER TABLE appointments_appointment DROP CONSTRAINT IF EXISTS {CONSTRAINT}")


class Migration(migrations.Migration):
    dependencies = [("appointments", "0001_initial")]

    operations = [
        BtreeGistExtension(),
        migrations.RunPython(add_constraint, drop_constraint, elidable=False),
    ]

"""The technician overlap rule on PostgreSQL, for the migrations that move it (see 0002, 0007, 0008)."""

CONSTRAINT = "appointment_technician_no_overlap"


def drop_exclusion(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE appointments_appointment DROP CONSTRAINT IF EXISTS {CONSTRAINT}")


def _add_exclusion(schema_editor, start_column: str) -> None:
    """No two active visits of one technician meet over [start_column, occupied_until), half-open."""
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f"""
        ALTER TABLE appointments_appointment ADD CONSTRAINT {CONSTRAINT}
        EXCLUDE USING gist (
            technician_id WITH =,
            tstzrange({start_column}, occupied_until, '[)') WITH &&
        )
        WHERE (technician_id IS NOT NULL
               AND status IN ('requested', 'scheduled', 'en_route', 'on_site'))
        """
    )


def add_exclusion_on_plan(apps, schema_editor):
    _add_exclusion(schema_editor, "planned_start")


def add_exclusion_on_window(apps, schema_editor):
    _add_exclusion(schema_editor, "window_start")

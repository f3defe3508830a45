"""The database itself refuses edits of journal entries (and deletes, on PostgreSQL).

SQLite gets no delete trigger because Django's test flush empties tables with
DELETE; PostgreSQL flushes with TRUNCATE, which row triggers do not see.
"""

from django.db import migrations

PG_FORWARD = """
CREATE OR REPLACE FUNCTION journal_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'journal entries are append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER journal_entry_append_only
    BEFORE UPDATE OR DELETE ON journal_journalentry
    FOR EACH ROW EXECUTE FUNCTION journal_refuse_change();
"""
PG_BACKWARD = """
DROP TRIGGER IF EXISTS journal_entry_append_only ON journal_journalentry;
DROP FUNCTION IF EXISTS journal_refuse_change();
"""
SQLITE_FORWARD = """
CREATE TRIGGER journal_entry_no_update BEFORE UPDATE ON journal_journalentry
BEGIN SELECT RAISE(ABORT, 'journal entries are append-only'); END;
"""
SQLITE_BACKWARD = "DROP TRIGGER IF EXISTS journal_entry_no_update;"


def forward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_FORWARD)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_FORWARD)


def backward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_BACKWARD)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_BACKWARD)


class Migration(migrations.Migration):
    dependencies = [("journal", "0001_initial")]

    operations = [migrations.RunPython(forward, backward, elidable=False)]

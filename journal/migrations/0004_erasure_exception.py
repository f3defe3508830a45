"""The journal stays append-only, with one sanctioned exception: erasing a customer's personal data.

During an erasure (privacy.services.customer_erase) the entries of that one customer may have their
`summary` and `data` rewritten; every other column stays as it was, every other customer's entries stay
refused. The erasure names the customer to the database inside its own transaction:
- PostgreSQL: `set_config('doorstep.erasure', '<customer id>', true)`, a transaction-local setting
  (SET LOCAL) that ends with the transaction whatever happens;
- SQLite: a row in journal_erasure_in_progress, inserted and deleted inside the transaction (SQLite has
  no session settings a trigger can read).
Deletes stay refused on PostgreSQL (an erasure anonymises, it never deletes); SQLite still has no delete
trigger because Django's test flush empties tables with DELETE (see 0002).
"""

from django.db import migrations

# Columns an erasure must leave alone: the facts (who, when, what kind) the journal proves.
KEPT = ["id", "customer_id", "appointment_id", "channel", "direction", "action", "actor_id", "occurred_at", "recorded_at"]

PG_UNCHANGED = " AND ".join(f"NEW.{column} IS NOT DISTINCT FROM OLD.{column}" for column in KEPT)
PG_FORWARD = f"""
CREATE OR REPLACE FUNCTION journal_refuse_change() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE'
       AND current_setting('doorstep.erasure', true) = OLD.customer_id::text
       AND {PG_UNCHANGED} THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'journal entries are append-only';
END;
$$ LANGUAGE plpgsql;
"""
# The function as 0002 created it; the trigger itself is unchanged and calls whichever function exists.
PG_BACKWARD = """
CREATE OR REPLACE FUNCTION journal_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'journal entries are append-only';
END;
$$ LANGUAGE plpgsql;
"""

SQLITE_UNCHANGED = " AND ".join(f"NEW.{column} IS OLD.{column}" for column in KEPT)
SQLITE_FORWARD = [
    "CREATE TABLE journal_erasure_in_progress (customer_id integer NOT NULL PRIMARY KEY)",
    "DROP TRIGGER IF EXISTS journal_entry_no_update",
    f"""CREATE TRIGGER journal_entry_no_update BEFORE UPDATE ON journal_journalentry
WHEN NOT (EXISTS (SELECT 1 FROM journal_erasure_in_progress WHERE customer_id = OLD.customer_id)
          AND {SQLITE_UNCHANGED})
BEGIN SELECT RAISE(ABORT, 'journal entries are append-only'); END""",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS journal_entry_no_update",
    """CREATE TRIGGER journal_entry_no_update BEFORE UPDATE ON journal_journalentry
BEGIN SELECT RAISE(ABORT, 'journal entries are append-only'); END""",
    "DROP TABLE IF EXISTS journal_erasure_in_progress",
]


def forward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_FORWARD)
    elif vendor == "sqlite":
        for statement in SQLITE_FORWARD:
            schema_editor.execute(statement)


def backward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_BACKWARD)
    elif vendor == "sqlite":
        for statement in SQLITE_BACKWARD:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("journal", "0003_journal_time_index")]

    operations = [migrations.RunPython(forward, backward, elidable=False)]

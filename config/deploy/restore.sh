#!/bin/sh
# Restore a dump made by backup.sh into the database PGDATABASE (libpq's PG* variables name it).
#   restore.sh /backups/doorstep-20261130T020000Z.dump
# Stop web, worker and beat first (README: "Backups and restore"); the tables are replaced.
set -eu

dump="${1:?usage: restore.sh DUMP_FILE}"
[ -r "$dump" ] || { echo "restore: cannot read $dump" >&2; exit 66; }
pg_restore --clean --if-exists --no-owner --no-privileges --exit-on-error --single-transaction \
    --dbname="$PGDATABASE" "$dump"
echo "restore: $dump restored into $PGDATABASE"

#!/bin/sh
# Restore a dump made by backup.sh into the database PGDATABASE (libpq's PG* variables name it), and the
# received files archived beside it (doorstep-<stamp>.media.tar.gz) into MEDIA_DIR when that is set.
#   restore.sh /backups/doorstep-20261130T020000Z.dump
# Stop web, worker and beat first (README: "Backups and restore"): the database and the files are replaced.
set -eu

dump="${1:?usage: restore.sh DUMP_FILE}"
[ -r "$dump" ] || { echo "restore: cannot read $dump" >&2; exit 66; }
media="${dump%.dump}.media.tar.gz"

work="$(mktemp -d)"
trap 'rm -rf -- "$work"' EXIT

# The whole schema goes, not only what the dump holds: `pg_restore --clean` would leave the tables of
# migrations newer than the dump beside a django_migrations that does not know them, and the next
# `migrate` would fail on "relation already exists". Dropping and restoring is one transaction, so a dump
# that does not restore leaves the database as it was.
pg_restore --no-owner --no-privileges --file="$work/restore.sql" "$dump"
printf '%s\n' "DROP SCHEMA IF EXISTS public CASCADE;" "CREATE SCHEMA public;" >"$work/clean.sql"
psql --no-psqlrc --quiet --set=ON_ERROR_STOP=1 --single-transaction \
    --file="$work/clean.sql" --file="$work/restore.sql" >/dev/null
echo "restore: $dump restored into $PGDATABASE"

if [ -n "${MEDIA_DIR:-}" ]; then
    if [ ! -r "$media" ]; then
        echo "restore: no $media beside the dump; the files in $MEDIA_DIR are left as they are" >&2
        exit 0
    fi
    # Unpacked beside the old files first, so a broken archive leaves them in place.
    mkdir -p "$work/media"
    tar -xzf "$media" --numeric-owner -C "$work/media"
    mkdir -p "$MEDIA_DIR"
    find "$MEDIA_DIR" -mindepth 1 -maxdepth 1 -exec rm -rf -- {} +
    cp -a -- "$work/media/." "$MEDIA_DIR/"
    echo "restore: $media restored into $MEDIA_DIR"
fi

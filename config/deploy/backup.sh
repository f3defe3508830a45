#!/bin/sh
# docker-compose.yml's `backup`: pg_dump of the database every BACKUP_INTERVAL_HOURS into BACKUP_DIR,
# keeping the newest BACKUP_KEEP dumps. The connection comes from libpq's PGHOST/PGUSER/PGPASSWORD/
# PGDATABASE. `backup.sh once` makes one dump and exits (for a cron job, or before an upgrade).
set -eu

BACKUP_DIR="${BACKUP_DIR:-/backups}"
BACKUP_KEEP="${BACKUP_KEEP:-14}"
BACKUP_INTERVAL_HOURS="${BACKUP_INTERVAL_HOURS:-24}"

backup_once() {
    mkdir -p "$BACKUP_DIR"
    target="$BACKUP_DIR/doorstep-$(date -u +%Y%m%dT%H%M%SZ).dump"
    # Written under another name first: a dump cut off by a full disk or a restart is never taken for a
    # good one, and never counts towards the ones kept.
    pg_dump --format=custom --no-owner --no-privileges --file="$target.partial"
    mv "$target.partial" "$target"
    echo "backup: wrote $target ($(wc -c <"$target") bytes)"
    # The names sort by time; everything older than the newest BACKUP_KEEP goes.
    ls -1 "$BACKUP_DIR"/doorstep-*.dump | sort -r | tail -n "+$((BACKUP_KEEP + 1))" | while read -r old; do
        rm -f -- "$old"
        echo "backup: removed $old"
    done
}

case "${1:-loop}" in
    once)
        backup_once
        ;;
    loop)
        while :; do
            backup_once || echo "backup: FAILED (see above); next try in ${BACKUP_INTERVAL_HOURS} h" >&2
            sleep "$((BACKUP_INTERVAL_HOURS * 3600))"
        done
        ;;
    *)
        echo "usage: backup.sh [once|loop]" >&2
        exit 64
        ;;
esac

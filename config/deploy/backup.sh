#!/bin/sh
# docker-compose.yml's `backup`: pg_dump of the database every BACKUP_INTERVAL_HOURS into BACKUP_DIR,
# keeping the newest BACKUP_KEEP dumps. The connection comes from libpq's PGHOST/PGUSER/PGPASSWORD/
# PGDATABASE. `backup.sh once` makes one dump and exits (for a cron job, or before an upgrade).
set -eu

BACKUP_DIR="${BACKUP_DIR:-/backups}"
BACKUP_KEEP="${BACKUP_KEEP:-14}"
BACKUP_INTERVAL_HOURS="${BACKUP_INTERVAL_HOURS:-24}"

# Checked before anything is dumped: found out later, a bad value stopped the service after its dump,
# `restart: unless-stopped` started it again, and every start dumped and pruned, so the history was gone
# within minutes (and BACKUP_KEEP=0 pruned the dump just made).
require_whole_number() {
    case "$2" in
        '' | *[!0-9]* | 0*)
            echo "backup: $1 must be a whole number of 1 or more, not '$2'; nothing is backed up until it is" >&2
            exit 78
            ;;
    esac
}
require_whole_number BACKUP_KEEP "$BACKUP_KEEP"
require_whole_number BACKUP_INTERVAL_HOURS "$BACKUP_INTERVAL_HOURS"

# What a dump killed with its container (a restart, an upgrade) left half-written: no backup, only space.
remove_cut_off_dumps() {
    for partial in "$BACKUP_DIR"/doorstep-*.partial; do
        [ -e "$partial" ] || continue
        rm -f -- "$partial"
        echo "backup: removed $partial (cut off before it was complete)"
    done
}

backup_once() {
    # Every step checks its own result: `backup_once || …` below switches `set -e` off inside this function,
    # and a failed pg_dump must never be kept as a backup nor push a good one out.
    mkdir -p "$BACKUP_DIR" || return 1
    stamp="$(date -u +%Y%m%dT%H%M%SZ)"
    target="$BACKUP_DIR/doorstep-$stamp.dump"
    # Written under another name first: a dump cut off by a full disk or a restart is never taken for a
    # good one, and never counts towards the ones kept.
    if ! pg_dump --format=custom --no-owner --no-privileges --file="$target.partial"; then
        rm -f -- "$target.partial"
        return 1
    fi
    mv -- "$target.partial" "$target" || return 1
    echo "backup: wrote $target ($(wc -c <"$target") bytes)"
    # The uploaded and received files (inbound attachments) live beside the database: kept with it.
    if [ -n "${MEDIA_DIR:-}" ] && [ -d "$MEDIA_DIR" ]; then
        if ! tar -czf "$BACKUP_DIR/doorstep-$stamp.media.tar.gz.partial" -C "$MEDIA_DIR" .; then
            rm -f -- "$BACKUP_DIR/doorstep-$stamp.media.tar.gz.partial"
            return 1
        fi
        mv -- "$BACKUP_DIR/doorstep-$stamp.media.tar.gz.partial" "$BACKUP_DIR/doorstep-$stamp.media.tar.gz" || return 1
        echo "backup: wrote $BACKUP_DIR/doorstep-$stamp.media.tar.gz"
    fi
    # The names sort by time; everything older than the newest BACKUP_KEEP goes.
    for kind in dump media.tar.gz; do
        ls -1 "$BACKUP_DIR"/doorstep-*."$kind" 2>/dev/null | sort -r \
            | tail -n "+$((BACKUP_KEEP + 1))" | while read -r old; do
                rm -f -- "$old"
                echo "backup: removed $old"
            done
    done
}

one_round() {
    backup_once || echo "backup: FAILED (see above); next try in ${BACKUP_INTERVAL_HOURS} h" >&2
}

case "${1:-loop}" in
    once)
        backup_once
        ;;
    round)
        # One round as the loop runs it after a start: a failure is reported, the service goes on.
        remove_cut_off_dumps
        one_round
        ;;
    loop)
        remove_cut_off_dumps
        while :; do
            one_round
            sleep "$((BACKUP_INTERVAL_HOURS * 3600))"
        done
        ;;
    *)
        echo "usage: backup.sh [once|round|loop]" >&2
        exit 64
        ;;
esac

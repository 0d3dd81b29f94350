#!/usr/bin/env bash
# Stops what start-postgres.sh and start-dovecot.sh started in DIR. Safe to call when either never started.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

dir=${1:?usage: stop-services.sh DIR}
bin=${NEWSLETTER_TEST_PG_BIN:-/usr/lib/postgresql/15/bin}

if [[ -f $dir/pg/data/postmaster.pid ]]; then
  as_postgres "$bin/pg_ctl" -D "$dir/pg/data" -m fast -w stop >/dev/null || echo "could not stop PostgreSQL in $dir" >&2
fi

pidfile=$dir/dovecot/run/master.pid
if [[ -f $pidfile ]]; then
  pid=$(cat "$pidfile")
  kill "$pid" 2>/dev/null
  # The master takes its children down with it; wait so the caller can delete DIR safely.
  wait_until 10 "Dovecot ($pid) to stop" bash -c "! kill -0 $pid" || kill -9 "$pid" 2>/dev/null
fi
true

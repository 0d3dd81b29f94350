#!/usr/bin/env bash
# Stops what start-postgres.sh, start-dovecot.sh and start-postfix-bounce.sh started in DIR. Safe to call when any
# of them never started.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

dir=${1:?usage: stop-services.sh DIR}
bin=${NEWSLETTER_TEST_PG_BIN:-/usr/lib/postgresql/15/bin}
cd "$dir" 2>/dev/null || exit 0

# Every cluster under DIR: ours, and any a crashed test process left behind (PrivatePostgres under DIR/tmp).
while IFS= read -r pidfile; do
  data=$(dirname "$pidfile")
  as_postgres "$bin/pg_ctl" -D "$data" -m fast -w stop >/dev/null || echo "could not stop PostgreSQL in $data" >&2
done < <(find "$dir" -name postmaster.pid 2>/dev/null)

pidfile=$dir/dovecot/run/master.pid
if [[ -f $pidfile ]]; then
  pid=$(cat "$pidfile")
  kill "$pid" 2>/dev/null
  # The master takes its children down with it; wait so the caller can delete DIR safely.
  wait_until 10 "Dovecot ($pid) to stop" bash -c "! kill -0 $pid" || kill -9 "$pid" 2>/dev/null
fi

if [[ -f $dir/postfix/config/main.cf ]]; then
  pidfile=$dir/postfix/queue/pid/master.pid
  pid=$(tr -d ' ' <"$pidfile" 2>/dev/null)
  postfix -c "$dir/postfix/config" stop >/dev/null 2>&1
  if [[ -n $pid ]]; then
    wait_until 10 "Postfix ($pid) to stop" bash -c "! kill -0 $pid" || kill -9 "$pid" 2>/dev/null
  fi
fi
true

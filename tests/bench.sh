#!/usr/bin/env bash
# Runs the benchmarks (never part of `dotnet test`): installs what is missing (apt), starts a private PostgreSQL
# (with PostgreSQL's durability defaults: fsync and synchronous_commit on, as deployed), Dovecot and Postfix's
# smtp-sink on free loopback ports, builds Release and publishes the app (as deployed), runs tests/Newsletter.Benchmarks,
# stops everything it started.
# Usage: tests/bench.sh [scenario...]   scenarios: parse matching scoring render fan-out outcome-writes ingestion time-to-inbox web (default: all)
# Sizes (env): BENCH_SUBSCRIBERS=100000 BENCH_SMTP_CONNECTIONS=4 BENCH_BACKLOG=1000 BENCH_WRK_DURATION=20s
#              BENCH_INBOX_LISTINGS=5 BENCH_INBOX_SUBSCRIBERS=1000 BENCH_VOTES=0 (fan-out: votes per subscriber on earlier papers)
#              BENCH_WRK_CONNECTIONS=32 BENCH_WRK_THREADS=2 BENCH_MANAGE_PATH=/manage/{token} BENCH_SEED=42
# BENCH_PG_DIAGNOSTICS=1: the ingestion and fan-out scenarios also print PostgreSQL's busiest statements and what its sessions
#              waited on during the measurement (loads pg_stat_statements; slows PostgreSQL a little, so not for the numbers).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
scripts=$root/deploy/scripts
. "$scripts/lib.sh"
cd "$root"

"$scripts/install-test-deps.sh"
if ! command -v wrk >/dev/null; then
  [[ $(id -u) -eq 0 ]] || { echo "wrk is missing: sudo apt-get install wrk" >&2; exit 1; }
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/newsletter-bench-XXXXXX")
chmod 755 "$work"
sink_pid=
cleanup() {
  # `|| true`: under set -e a failing kill, or wait reporting the killed sink's status, would end the trap early.
  if [[ -n $sink_pid ]]; then kill "$sink_pid" 2>/dev/null || true; wait "$sink_pid" 2>/dev/null || true; fi
  "$scripts/stop-services.sh" "$work"
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

pg_env=$(NEWSLETTER_PG_DURABLE=1 NEWSLETTER_PG_STATEMENTS=${BENCH_PG_DIAGNOSTICS:-0} "$scripts/start-postgres.sh" "$work")
eval "$pg_env"
imap_env=$("$scripts/start-dovecot.sh" "$work")
eval "$imap_env"

# smtp-sink: accepts and discards everything; a backlog of 256 and up to 64 parallel sessions.
smtp_port=$(free_port)
smtp-sink -u nobody 127.0.0.1:"$smtp_port" 256 >"$work/smtp-sink.log" 2>&1 &
sink_pid=$!
wait_until 10 "smtp-sink on port $smtp_port" bash -c "exec 3<>/dev/tcp/127.0.0.1/$smtp_port"
echo "services: PostgreSQL ${NEWSLETTER_TEST_PG%%;Username=*} (durable defaults), Dovecot $NEWSLETTER_TEST_IMAP, smtp-sink 127.0.0.1:$smtp_port (in $work)"

dotnet build Newsletter.sln -c Release --nologo -v quiet
# The app's own processes (worker, web, the embedding child) run as deployed: published, compiled ahead of time. Into
# a new folder each time: a publish over an old one keeps files newer than their replacements.
app=$work/app
dotnet publish "$root/src/Newsletter" -c Release --nologo -v quiet -o "$app"

export BENCH_PG=$NEWSLETTER_TEST_PG BENCH_IMAP=$NEWSLETTER_TEST_IMAP BENCH_IMAP_PASSWORD=$NEWSLETTER_TEST_IMAP_PASSWORD
export BENCH_SMTP=127.0.0.1:$smtp_port BENCH_WORK=$work
export BENCH_APP_DLL=$app/newsletter.dll
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo), load average $(cut -d' ' -f1-3 /proc/loadavg)"
dotnet "$root/tests/Newsletter.Benchmarks/bin/Release/net10.0/Newsletter.Benchmarks.dll" "$@"

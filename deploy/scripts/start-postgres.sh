#!/usr/bin/env bash
# Starts a private, throwaway PostgreSQL in DIR/pg on a free loopback port and prints the `export` lines the
# tests read (eval them). Stop it with stop-services.sh DIR. Tuned for tests: fsync off, many connections.
# NEWSLETTER_PG_DURABLE=1 keeps PostgreSQL's own durability defaults (fsync, synchronous_commit, full_page_writes
# on), as a real deployment runs; the benchmarks use it.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

dir=${1:?usage: start-postgres.sh DIR}
bin=${NEWSLETTER_TEST_PG_BIN:-/usr/lib/postgresql/15/bin}
data=$dir/pg/data
log=$dir/pg/postgres.log
port=$(free_port)
password=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')

# initdb and postgres refuse to run as root: the cluster belongs to the postgres user, who must reach DIR.
mkdir -p "$dir/pg"
cd "$dir"
if ! as_postgres test -x "$dir/pg" 2>/dev/null; then
  echo "the postgres user cannot reach $dir (a mode-700 home on the way?): pick a folder under /tmp" >&2
  exit 1
fi
printf '%s\n' "$password" >"$dir/pg/password"
if [[ $(id -u) -eq 0 ]]; then chown -R postgres: "$dir/pg"; fi

as_postgres "$bin/initdb" -D "$data" -U postgres --pwfile="$dir/pg/password" --auth-local=trust \
  --auth-host=scram-sha-256 --encoding=UTF8 --no-locale --no-sync >"$dir/pg/initdb.log" 2>&1 \
  || { cat "$dir/pg/initdb.log" >&2; exit 1; }
rm -f "$dir/pg/password"

cat >>"$data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$data'
max_connections = 200
CONF
# NEWSLETTER_PG_STATEMENTS=1 loads pg_stat_statements (tests/bench.sh's BENCH_PG_DIAGNOSTICS uses it).
if [[ ${NEWSLETTER_PG_STATEMENTS:-0} == 1 ]]; then
  printf "shared_preload_libraries = 'pg_stat_statements'\npg_stat_statements.track = all\n" >>"$data/postgresql.conf"
fi
if [[ ${NEWSLETTER_PG_DURABLE:-0} != 1 ]]; then
  printf 'fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n' >>"$data/postgresql.conf"
fi

# pg_ctl -w returns once the server accepts connections, or fails at once if it died (e.g. port taken).
as_postgres "$bin/pg_ctl" -D "$data" -l "$log" -w -t 60 start >/dev/null || { tail -n 20 "$log" >&2; exit 1; }
wait_until 10 "PostgreSQL on 127.0.0.1:$port" "$bin/pg_isready" -q -h 127.0.0.1 -p "$port"

printf 'export NEWSLETTER_TEST_PG=%q\n' "Host=127.0.0.1;Port=$port;Username=postgres;Password=$password"
printf 'export NEWSLETTER_TEST_PG_BIN=%q\n' "$bin"

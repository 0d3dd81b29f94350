# Shared shell helpers for the scripts that start local services. Source it; it defines functions only.

# Prints a TCP port on 127.0.0.1 that nothing listens on. A random pick in the ephemeral-free range,
# probed with bash's /dev/tcp (no python or ss needed on a fresh machine); a refused connection means free.
free_port() {
  local port
  for _ in $(seq 1 50); do
    port=$(( 20000 + RANDOM % 30000 ))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return 0
    fi
  done
  echo "free_port: no free port found" >&2
  return 1
}

# Waits until COMMAND succeeds, polling every 0.1 s for at most SECONDS. Usage: wait_until SECONDS WHAT COMMAND...
wait_until() {
  local seconds=$1 what=$2
  shift 2
  local deadline=$(( SECONDS + seconds ))
  until "$@" >/dev/null 2>&1; do
    if (( SECONDS >= deadline )); then
      echo "timed out after ${seconds}s waiting for $what" >&2
      return 1
    fi
    sleep 0.1
  done
}

# Runs a command as the postgres user when we are root (initdb and postgres refuse root), else directly.
as_postgres() {
  if [[ $(id -u) -eq 0 ]]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

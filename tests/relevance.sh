#!/usr/bin/env bash
# Replays the relevance judgement set (../shared/relevance beside the clone, or RELEVANCE_DATA) through the service's
# parser, matcher and Relevance classes, and prints per reader and method: precision, recall, F1 of the papers shown
# and nDCG@10 of their order, as JSON lines and a table. Needs no services (--service starts its own PostgreSQL).
# Embeddings are cached per model under ${TMPDIR:-/tmp}/newsletter-relevance-cache (the first run embeds the 387
# papers: a few minutes on 2 cores).
# Usage: tests/relevance.sh [METHOD...]     default: keywords profile (see tests/Newsletter.Relevance/Program.cs)
#        tests/relevance.sh --cost minilm   model load time, one listing's embedding time, memory
#        tests/relevance.sh --pairs [METHOD...]   also a reader for each pair of readers (lines joined by OR, papers
#                 united): readers with two interests, which the set does not have
#        tests/relevance.sh --service [METHOD...]   method `service`: the real application (web + jobs) on a private
#                 PostgreSQL started here, the listings dropped into its inbox day by day, digests received by SMTP,
#                 votes cast through the digests' own links (tests/Newsletter.Relevance/Service)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
data=${RELEVANCE_DATA:-$root/../shared/relevance}
[[ -f $data/judgements.json ]] || { echo "no judgement set in $data (set RELEVANCE_DATA)" >&2; exit 1; }
build=$(dotnet build "$root/tests/Newsletter.Relevance" -c Release --nologo -v quiet 2>&1) || { echo "$build" >&2; exit 1; }
args=("$@")
[[ ${#args[@]} -gt 0 ]] || args=(keywords profile)
if [[ " ${args[*]} " == *" --service "* ]]; then
  scripts=$root/deploy/scripts
  "$scripts/install-test-deps.sh"
  # The postgres user must reach the cluster, and mktemp makes the folder 700: open it up (not the files inside).
  work=$(mktemp -d "${TMPDIR:-/tmp}/newsletter-relevance-XXXXXX")
  chmod 755 "$work"
  cleanup() {
    "$scripts/stop-services.sh" "$work"
    rm -rf "$work"
  }
  trap cleanup EXIT
  # Turn Ctrl-C and kill into a normal exit, so the EXIT trap still stops PostgreSQL.
  trap 'exit 130' INT
  trap 'exit 143' TERM
  # Assign first, then eval: `eval "$(cmd)"` alone would hide a failing start from `set -e`.
  pg_env=$("$scripts/start-postgres.sh" "$work")
  eval "$pg_env"
  dotnet "$root/tests/Newsletter.Relevance/bin/Release/net10.0/Newsletter.Relevance.dll" --data "$data" "${args[@]}"
  exit
fi
exec dotnet "$root/tests/Newsletter.Relevance/bin/Release/net10.0/Newsletter.Relevance.dll" --data "$data" "${args[@]}"

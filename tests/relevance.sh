#!/usr/bin/env bash
# Replays the relevance judgement set (../shared/relevance beside the clone, or RELEVANCE_DATA) through the service's
# parser, matcher and Relevance classes, and prints per reader and method: precision, recall, F1 of the papers shown
# and nDCG@10 of their order, as JSON lines and a table. Needs no services. Embeddings are cached per model under
# ${TMPDIR:-/tmp}/newsletter-relevance-cache (the first run embeds the 387 papers: a few minutes on 2 cores).
# Usage: tests/relevance.sh [METHOD...]     default: keywords profile (see tests/Newsletter.Relevance/Program.cs)
#        tests/relevance.sh --cost minilm   model load time, one listing's embedding time, memory
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
data=${RELEVANCE_DATA:-$root/../shared/relevance}
[[ -f $data/judgements.json ]] || { echo "no judgement set in $data (set RELEVANCE_DATA)" >&2; exit 1; }
dotnet build "$root/tests/Newsletter.Relevance" -c Release --nologo -v quiet >/dev/null
args=("$@")
[[ ${#args[@]} -gt 0 ]] || args=(keywords profile)
exec dotnet "$root/tests/Newsletter.Relevance/bin/Release/net10.0/Newsletter.Relevance.dll" --data "$data" "${args[@]}"

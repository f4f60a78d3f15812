#!/usr/bin/env bash
# Smoke test of the bench binary for CI: every (workload, variant) of `actor-bench list` runs
# once with a tiny N and must exit 0 and print at least one RESULT line. No timing checks.
#
#   SMOKE_N=200 bench/smoke.sh
set -euo pipefail

bench_dir="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$bench_dir")"
n="${SMOKE_N:-200}"

cd "$root"
cargo build --quiet -p actor-bench
target_dir="$(cargo metadata --format-version 1 --no-deps |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')"
bin="$target_dir/debug/actor-bench"

measurements="$("$bin" list)"
passed=0
failed=0
while IFS=$'\t' read -r workload variant; do
    # Each wait inside a run is bounded already; the timeout also covers a stuck join.
    if output="$(timeout 300 "$bin" "$workload" "$variant" --n "$n" </dev/null)" &&
        grep -q '^RESULT' <<<"$output"; then
        passed=$((passed + 1))
    else
        echo "smoke: FAILED $workload $variant" >&2
        failed=$((failed + 1))
    fi
done <<<"$measurements"

echo "smoke: $passed passed, $failed failed"
((failed == 0))

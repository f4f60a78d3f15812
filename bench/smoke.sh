#!/usr/bin/env bash
# Smoke test of the bench binary for CI: every (workload, variant) of `actor-bench list` runs
# once with a tiny N and must exit 0 and print at least one RESULT line. No timing checks.
# W8's N is its number of member processes: it runs with 3, the fewest it takes (about 12 s
# each, most of it the cluster's own timing). W9's N is its window in milliseconds: 200 ms of
# flood.
# The RESULT lines then go through the driver's table (summarize.py) and chart (chart.py),
# written to a temporary directory, so that both scripts are exercised too.
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

scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
"$bin" list >"$scratch/list"
"$bin" baselines >"$scratch/baselines"
: >"$scratch/results.tsv"

passed=0
failed=0
while IFS=$'\t' read -r workload variant; do
    run_n="$n"
    if [[ "$workload" == W8 ]]; then
        run_n=3
    fi
    # Each wait inside a run is bounded already; the timeout also covers a stuck join.
    if output="$(timeout 300 "$bin" "$workload" "$variant" --n "$run_n" </dev/null)" &&
        grep -q '^RESULT' <<<"$output"; then
        grep -E '^(RESULT|SETTINGS)' <<<"$output" >>"$scratch/results.tsv"
        passed=$((passed + 1))
    else
        echo "smoke: FAILED $workload $variant" >&2
        failed=$((failed + 1))
    fi
done <"$scratch/list"

if python3 "$bench_dir/summarize.py" --tsv "$scratch/results.tsv" \
    --baselines "$scratch/baselines" --order "$scratch/list" --rounds 1 --seconds 0 \
    >"$scratch/table.md" &&
    python3 "$bench_dir/chart.py" --tsv "$scratch/results.tsv" \
        --baselines "$scratch/baselines" --order "$scratch/list" --out "$scratch/chart.svg"; then
    passed=$((passed + 1))
else
    echo "smoke: FAILED summarize.py or chart.py" >&2
    failed=$((failed + 1))
fi

echo "smoke: $passed passed, $failed failed"
((failed == 0))

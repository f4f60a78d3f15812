#!/usr/bin/env bash
# Runs every measurement of actor-bench ROUNDS times (default 3), interleaved: all once, then
# all again, and so on. Writes the RESULT lines (and the SETTINGS lines W8 prints beside its
# figures) to bench/results/last-run.tsv and a table of medians, spreads and framework/raw
# ratios to bench/results/last-run.md, and prints the table.
# A run of every workload also publishes the table as docs/performance.md and a chart of the
# ratios (bench/chart.py) as docs/performance.svg.
#
#   ROUNDS=5 bench/run.sh
#   WORKLOADS="W4 W5" bench/run.sh     # only the measurements of these workloads (nothing
#                                      # published: docs/ keeps the last full run)
#
# A failed run is reported and the others go on; the script then exits non-zero.
set -euo pipefail

bench_dir="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$bench_dir")"
rounds="${ROUNDS:-3}"
if ! [[ "$rounds" =~ ^[1-9][0-9]*$ ]]; then
    echo "run.sh: ROUNDS must be a whole number of at least 1, not '$rounds'" >&2
    exit 2
fi

cd "$root"
cargo build --release -p actor-bench
target_dir="$(cargo metadata --format-version 1 --no-deps |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')"
bin="$target_dir/release/actor-bench"

results="$bench_dir/results"
mkdir -p "$results"
tsv="$results/last-run.tsv"
md="$results/last-run.md"
baselines="$(mktemp)"
trap 'rm -f "$baselines"' EXIT

measurements="$("$bin" list)"
if [[ -n "${WORKLOADS:-}" ]]; then
    measurements="$(awk -F '\t' -v keep="$WORKLOADS" \
        'BEGIN { split(keep, names, " "); for (i in names) wanted[names[i]] = 1 }
         $1 in wanted' <<<"$measurements")"
    if [[ -z "$measurements" ]]; then
        echo "run.sh: no measurement of the workloads '$WORKLOADS' (see \`actor-bench list\`)" >&2
        exit 2
    fi
fi
"$bin" baselines >"$baselines"
# Read before the runs: W6 alone leaves thousands of threads in the averages afterwards.
load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
: >"$tsv"
failures=()
start=$SECONDS

for ((round = 1; round <= rounds; round++)); do
    while IFS=$'\t' read -r workload variant; do
        echo "round $round/$rounds: $workload $variant" >&2
        if output="$("$bin" "$workload" "$variant" </dev/null)"; then
            lines="$(grep '^RESULT' <<<"$output" || true)"
            if [[ -n "$lines" ]]; then
                printf '%s\n' "$lines" >>"$tsv"
                grep '^SETTINGS' <<<"$output" >>"$tsv" || true
            else
                failures+=("round $round: $workload $variant printed no RESULT line")
            fi
        else
            failures+=("round $round: $workload $variant exited with $?")
        fi
    done <<<"$measurements"
done

elapsed=$((SECONDS - start))
rustc_version="$(rustc --version)"
commit="$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)"
python3 "$bench_dir/summarize.py" \
    --tsv "$tsv" \
    --baselines "$baselines" \
    --order <(printf '%s\n' "$measurements") \
    --rounds "$rounds" \
    --seconds "$elapsed" \
    --load "$load_before" \
    --rustc "$rustc_version" \
    --commit "$commit" \
    >"$md"
cat "$md"
echo "wrote $tsv and $md (measurements took ${elapsed}s)" >&2

if [[ -z "${WORKLOADS:-}" ]]; then
    docs="$root/docs"
    mkdir -p "$docs"
    cp "$md" "$docs/performance.md"
    if python3 "$bench_dir/chart.py" \
        --tsv "$tsv" \
        --baselines "$baselines" \
        --order <(printf '%s\n' "$measurements") \
        --subtitle "$(nproc) cores, $rustc_version, commit $commit; medians of $rounds rounds" \
        --out "$docs/performance.svg"; then
        echo "wrote $docs/performance.md and $docs/performance.svg" >&2
    else
        failures+=("chart.py could not draw $docs/performance.svg")
    fi
fi

if ((${#failures[@]} > 0)); then
    printf 'FAILED: %s\n' "${failures[@]}" >&2
    exit 1
fi

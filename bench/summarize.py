#!/usr/bin/env python3
"""Tabulates the RESULT lines of a bench/run.sh run as Markdown (standard library only).

Each figure: the median over the rounds with its min-max spread, and for a framework
figure the ratio of its median to the median of its raw baseline from the same run. A
figure without a baseline (W8's) has no ratio; its goal, if any, is absolute. The SETTINGS
lines some measurements print beside their figures are listed under the table.
"""

import argparse
import os
import statistics
import sys
from collections import OrderedDict

# Metrics where a larger figure is better; for every other one a smaller figure is better.
HIGHER_IS_BETTER = {"throughput", "node-throughput"}

# The goals set for the framework's figures, by (workload, variant, metric): a bound on the
# ratio to the row's baseline ("ratio"), on the figure itself ("absolute", in the row's
# unit), or on the ratio to another framework figure of the same run ("versus", naming it as
# (workload, variant, metric)), with the comparison that meets it.
GOALS = {
    ("W1", "unbounded", "throughput"): ("ratio", ">=", 0.85),
    ("W1", "bounded", "throughput"): ("ratio", ">=", 0.85),
    ("W2", "ask", "p50"): ("ratio", "<=", 2.0),
    ("W3", "exchange", "throughput"): ("ratio", ">=", 0.6),
    ("W4", "actor", "throughput"): ("ratio", ">=", 0.25),
    ("W5", "ask", "p50"): ("ratio", "<=", 1.2),
    # Encrypted sessions: at least 0.9× the tells of a MAC-only session, and asks within 5%.
    ("W4", "actor-aead", "throughput"): ("versus", ">=", 0.9, ("W4", "actor", "throughput")),
    ("W5", "ask-aead", "p50"): ("versus", "<=", 1.05, ("W5", "ask", "p50")),
    ("W6", "thread", "spawn"): ("ratio", "<=", 1.5),
    ("W6", "dispatcher", "spawn"): ("absolute", "<=", 2.0),
    ("W6", "dispatcher", "rss"): ("absolute", "<=", 512.0),
    # Pub/sub across nodes: the records arriving at each subscribing node per second, at least
    # half of what one node's remote tells to another reach (W4) in the same run.
    ("W7", "pubsub", "node-throughput"): ("versus", ">=", 0.5, ("W4", "actor", "throughput")),
    # The cluster at its default settings: 16 members converge within 2 s; a killed member is
    # listed down everywhere within 1 s, a stopped (silent) one within 3 s; idle membership
    # traffic under 2 KB/s per member, read on the bytes the busiest member sends.
    ("W8", "16-nodes", "convergence"): ("absolute", "<=", 2.0),
    ("W8", "5-nodes", "kill-detection"): ("absolute", "<=", 1.0),
    ("W8", "16-nodes", "kill-detection"): ("absolute", "<=", 1.0),
    ("W8", "5-nodes", "stop-detection"): ("absolute", "<=", 3.0),
    ("W8", "16-nodes", "stop-detection"): ("absolute", "<=", 3.0),
    ("W8", "5-nodes", "idle-sent-max"): ("absolute", "<=", 2000.0),
    ("W8", "16-nodes", "idle-sent-max"): ("absolute", "<=", 2000.0),
    # A hostile peer (a flood of asks whose answers are never read, 10 s) costs the node at
    # most 64 MiB of resident memory, and an honest client's asks on another connection stay
    # within 5x their p50 with no flood, measured in the same driver run.
    ("W9", "flood", "rss-growth"): ("absolute", "<=", float(64 << 20)),
    ("W9", "flood", "p50"): ("versus", "<=", 5.0, ("W9", "quiet", "p50")),
    # The process pool: a call, submitted and waited for one at a time, within 1.3x a raw
    # round trip to an echoing process.
    ("micro", "process-pool", "cost"): ("ratio", "<=", 1.3),
}

# Bytes per MiB, for the goals set in bytes.
MIB = 1 << 20

# The first field of the lines that carry a measurement's settings rather than a figure.
SETTINGS = "SETTINGS"


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tsv", required=True, help="RESULT lines of every run")
    parser.add_argument("--baselines", required=True, help="output of `actor-bench baselines`")
    parser.add_argument("--order", required=True, help="output of `actor-bench list`")
    parser.add_argument("--rounds", type=int, required=True)
    parser.add_argument("--seconds", type=int, required=True)
    parser.add_argument("--load", default="?", help="load averages before the run")
    parser.add_argument("--rustc", default="?")
    parser.add_argument("--commit", default="?")
    return parser.parse_args()


def read_pairs(path, columns):
    """Tab-separated lines of `columns` fields each."""
    rows = []
    with open(path, encoding="utf-8") as lines:
        for line in lines:
            fields = line.rstrip("\n").split("\t")
            if len(fields) == columns:
                rows.append(tuple(fields))
    return rows


def read_results(path):
    """{(workload, variant): (system, OrderedDict{metric: (unit, [values])})}; SETTINGS lines
    are passed over (see read_settings)."""
    results = {}
    with open(path, encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            fields = line.rstrip("\n").split("\t")
            if len(fields) == 4 and fields[0] == SETTINGS:
                continue
            if len(fields) != 7 or fields[0] != "RESULT":
                sys.exit(f"summarize.py: {path}:{number}: not a RESULT line: {line!r}")
            _, system, workload, variant, metric, value, unit = fields
            _, metrics = results.setdefault((workload, variant), (system, OrderedDict()))
            metrics.setdefault(metric, (unit, []))[1].append(float(value))
    return results


def read_settings(path):
    """{workload: OrderedDict{settings text: [variants]}} from the SETTINGS lines, each
    variant once per text."""
    settings = OrderedDict()
    with open(path, encoding="utf-8") as lines:
        for line in lines:
            fields = line.rstrip("\n").split("\t")
            if len(fields) == 4 and fields[0] == SETTINGS:
                _, workload, variant, text = fields
                variants = settings.setdefault(workload, OrderedDict()).setdefault(text, [])
                if variant not in variants:
                    variants.append(variant)
    return settings


def median_ratio(results, workload, baseline, metric, median):
    """The framework's median over its baseline's median for `metric`, or None."""
    if baseline is None:
        return None
    base = results.get((workload, baseline), (None, {}))[1].get(metric)
    if base is None or statistics.median(base[1]) == 0:
        return None
    return median / statistics.median(base[1])


def goal_status(results, workload, variant, metric, unit, median, ratio):
    """(text of the goal, whether this run meets it) for a figure with a goal; else None.

    Whether it is met is None when the figure it bounds is missing (no baseline figure, or
    the other figure a "versus" goal names was not measured in this run).
    """
    goal = GOALS.get((workload, variant, metric))
    if goal is None:
        return None
    kind, comparison, bound = goal[:3]
    sign = "≥" if comparison == ">=" else "≤"
    if kind == "ratio":
        text, value = f"{sign} {bound:g}×", ratio
    elif kind == "versus":
        other_workload, other_variant, other_metric = goal[3]
        other = results.get((other_workload, other_variant), (None, {}))[1].get(other_metric)
        text = f"{sign} {bound:g}× {other_workload} {other_variant} {other_metric}"
        value = None
        if other is not None and statistics.median(other[1]) != 0:
            value = median / statistics.median(other[1])
            text += f" (this run: {value:.2f}×)"
    elif unit == "bytes" and bound >= MIB:
        text, value = f"{sign} {bound / MIB:g} MiB", median
    else:
        text, value = f"{sign} {bound:g} {unit}", median
    if value is None:
        return text, None
    return text, value >= bound if comparison == ">=" else value <= bound


def fmt(value):
    magnitude = abs(value)
    if 0 < magnitude < 0.1:
        return f"{value:.2g}"
    if magnitude >= 100:
        return f"{value:,.0f}"
    if magnitude >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def cpu_model():
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


def main():
    args = parse_args()
    order = read_pairs(args.order, 2)
    baselines = {(w, v): b for w, v, b in read_pairs(args.baselines, 3)}
    results = read_results(args.tsv)
    settings = read_settings(args.tsv)

    print("# actor-bench: last run")
    print()
    print(
        f"{os.cpu_count()} cores ({cpu_model()}), {args.rustc}, commit {args.commit}; "
        f"{args.rounds} rounds, interleaved; measurements took {args.seconds} s; "
        f"load average (1, 5, 15 min) before the run: {args.load} (a recent W6 run inflates "
        "it for minutes: its 10,000 threads start at once)."
    )
    print()
    print(
        "Each figure is the median of the rounds, with the min–max spread. "
        "**actor/raw** is the framework's median divided by its raw baseline's median, "
        "both from this run. For `throughput` higher is better, so a ratio below 1 means "
        "the framework is slower than its baseline; for latencies (`mean`, `p50`, `p99`), "
        "`spawn`, `rss` and `cost` lower is better, so a ratio above 1 means the framework "
        "costs more than its baseline. **goal** is the goal set for a figure and whether this "
        "run's median meets it: a bound on the actor/raw ratio (×), or, for the dispatcher "
        "(W6 `dispatcher`, 100,000 actors on 2 threads), absolute bounds per idle actor; its "
        "ratio to `std-thread` is shown for reference. W7's `node-throughput` (records arriving "
        "at each of the 2 subscribing nodes per second, n / elapsed) is read against W4's "
        "remote tell throughput of the same run; W7's `throughput` counts every delivery to its "
        "8 subscribers (8·n / elapsed). W8 (a cluster of 5 or 16 processes) "
        "has no raw baseline: its figures are seconds (`convergence`; `kill-detection`, "
        "`stop-detection`: until every other member lists a killed or stopped member down; "
        "`rejoin`: until they list the stopped one up again after SIGCONT) and bytes sent "
        "per second per member while idle (`idle-sent`: the mean over the members, "
        "`idle-sent-max`: the busiest), at the settings listed under the table, with "
        "absolute goals. W9 (a hostile peer that floods the node with asks and never reads "
        "the answers) has no raw baseline either: `rss-growth` is the node's peak resident "
        "memory growth during the flood (bytes, an absolute goal), and the `flood` row's "
        "latencies, an honest client's asks during the flood, are read against the `quiet` "
        "row's, the same client with no flood (the ratio is in the goal column)."
    )
    print()
    print("| workload | system | variant | metric | median | min–max | unit | runs "
          "| better | baseline | actor/raw | goal |")
    print("|---|---|---|---|--:|--:|---|--:|---|---|--:|---|")
    for workload, variant in order:
        if (workload, variant) not in results:
            print(f"| {workload} | | {variant} | | failed | | | 0/{args.rounds} | | | | |")
            continue
        system, metrics = results[(workload, variant)]
        baseline = baselines.get((workload, variant))
        for metric, (unit, values) in metrics.items():
            median = statistics.median(values)
            spread = f"{fmt(min(values))}–{fmt(max(values))}"
            better = "higher" if metric in HIGHER_IS_BETTER else "lower"
            ratio = median_ratio(results, workload, baseline, metric, median)
            goal = ""
            status = goal_status(results, workload, variant, metric, unit, median, ratio)
            if status is not None:
                text, met = status
                verdict = {True: "met", False: "**missed**", None: "not measured"}[met]
                goal = f"{text}: {verdict}"
            print(
                f"| {workload} | {system} | {variant} | {metric} | {fmt(median)} | {spread} "
                f"| {unit} | {len(values)}/{args.rounds} | {better} | {baseline or ''} "
                f"| {'' if ratio is None else f'{ratio:.2f}'} | {goal} |"
            )
    for workload, texts in settings.items():
        print()
        for text, variants in texts.items():
            names = ", ".join(f"`{variant}`" for variant in variants)
            print(f"Settings of {workload} ({names}): `{text}`.")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Draws the framework/baseline ratios of a bench/run.sh run as an SVG bar chart (standard
library only).

One group per framework figure that has a baseline (a row of the table with an actor/raw
ratio): the framework's median and its baseline's median, both divided by the baseline's
median, so the baseline bar is 1.0; whiskers span each figure's min-max over the rounds,
divided the same way. The scale is logarithmic, so 0.5x and 2x lie equally far from 1. Each
label says which way is better; a red mark shows the figure's goal where one is set (an
absolute goal is drawn as its ratio to the baseline's median; a goal set against another
framework figure, W7's against W4's, is not drawn).

    chart.py --tsv last-run.tsv --baselines baselines.tsv --order list.tsv --out chart.svg
"""

import argparse
import math
import statistics
import sys
from xml.sax.saxutils import escape

# The table's reader and goals are shared; importing them must not leave a __pycache__ in the
# source tree.
sys.dont_write_bytecode = True
from summarize import GOALS, HIGHER_IS_BETTER, read_pairs, read_results  # noqa: E402

WIDTH, HEIGHT = 900, 520
LEFT, RIGHT, TOP, BOTTOM = 96, 16, 72, 168
FONT = "font-family='DejaVu Sans, Helvetica, Arial, sans-serif'"
ACTOR_COLOUR = "#3f6fb5"
RAW_COLOUR = "#b9b9b9"
GOAL_COLOUR = "#d62728"

# Tick marks of the ratio axis: 1, 2 and 5 in each decade.
TICK_STEPS = (1, 2, 5)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tsv", required=True, help="RESULT lines of every run")
    parser.add_argument("--baselines", required=True, help="output of `actor-bench baselines`")
    parser.add_argument("--order", required=True, help="output of `actor-bench list`")
    parser.add_argument("--out", required=True, help="the SVG file to write")
    parser.add_argument("--subtitle", default="", help="a line under the title")
    return parser.parse_args()


def groups(order, baselines, results):
    """One dict per framework figure with a baseline, in the table's order."""
    found = []
    for workload, variant in order:
        baseline = baselines.get((workload, variant))
        if baseline is None or (workload, variant) not in results:
            continue
        base_metrics = results.get((workload, baseline), (None, {}))[1]
        for metric, (unit, values) in results[(workload, variant)][1].items():
            if metric not in base_metrics:
                continue
            base_values = base_metrics[metric][1]
            base = statistics.median(base_values)
            if base <= 0:
                continue
            goal = GOALS.get((workload, variant, metric))
            goal_ratio = None
            if goal is not None and goal[0] in ("ratio", "absolute"):
                kind, _, bound = goal
                goal_ratio = bound if kind == "ratio" else bound / base
            found.append({
                "label": f"{workload} {variant} {metric}",
                "baseline": baseline,
                "higher": metric in HIGHER_IS_BETTER,
                "ratio": statistics.median(values) / base,
                "spread": (min(values) / base, max(values) / base),
                "base_spread": (min(base_values) / base, max(base_values) / base),
                "goal": goal_ratio,
            })
    return found


def axis_range(found):
    """The (low, high) ratios the axis spans, each a tick just outside the data, and the ticks
    between them."""
    values = [1.0]
    for group in found:
        values += [group["ratio"], *group["spread"], *group["base_spread"]]
        if group["goal"] is not None:
            values.append(group["goal"])
    positive = [v for v in values if v > 0]
    smallest, largest = min(positive), max(positive)
    ticks = [
        step * 10.0**exp
        for exp in range(math.floor(math.log10(smallest)), math.ceil(math.log10(largest)) + 1)
        for step in TICK_STEPS
    ]
    low = max(t for t in ticks if t <= smallest)
    high = min(t for t in ticks if t >= largest)
    return low, high, [t for t in ticks if low <= t <= high]


def fmt_ratio(value):
    return f"{value:.0f}×" if value >= 10 else f"{value:.2f}×"


def tick_label(value):
    return f"{value:g}×"


def draw(found, subtitle):
    low, high, ticks = axis_range(found)
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM
    bottom = TOP + plot_h

    def y(value):
        value = min(max(value, low), high)
        share = (math.log10(value) - math.log10(low)) / (math.log10(high) - math.log10(low))
        return bottom - share * plot_h

    out = [
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{WIDTH}' height='{HEIGHT}' "
        f"viewBox='0 0 {WIDTH} {HEIGHT}' {FONT} font-size='11'>",
        f"<rect width='{WIDTH}' height='{HEIGHT}' fill='white'/>",
        f"<text x='{WIDTH / 2}' y='22' text-anchor='middle' font-size='16' font-weight='bold'>"
        "actor-bench: framework vs. raw baseline (baseline = 1.0)</text>",
    ]
    if subtitle:
        out.append(
            f"<text x='{WIDTH / 2}' y='40' text-anchor='middle' fill='#444'>"
            f"{escape(subtitle)}</text>"
        )

    # Legend, one row under the title.
    legend_y = 58
    items = [
        ("rect", ACTOR_COLOUR, "framework (median / baseline median)"),
        ("rect", RAW_COLOUR, "raw baseline"),
        ("whisker", "#222", "min–max over the rounds"),
        ("goal", GOAL_COLOUR, "goal"),
        ("text", "", "↑ higher is better, ↓ lower is better"),
    ]
    x = LEFT
    for kind, colour, text in items:
        if kind == "rect":
            out.append(f"<rect x='{x}' y='{legend_y - 9}' width='12' height='10' fill='{colour}'/>")
        elif kind == "whisker":
            out.append(
                f"<path d='M{x + 6},{legend_y - 10} v12 M{x + 2},{legend_y - 10} h8 "
                f"M{x + 2},{legend_y + 2} h8' stroke='{colour}' fill='none'/>"
            )
        elif kind == "goal":
            out.append(
                f"<path d='M{x},{legend_y - 4} h14' stroke='{colour}' stroke-width='2.5' "
                "stroke-dasharray='5,2'/>"
            )
        out.append(f"<text x='{x + 18}' y='{legend_y}'>{escape(text)}</text>")
        x += 26 + 6.2 * len(text)

    # Axis, grid and the line at 1.0.
    for tick in ticks:
        ty = y(tick)
        colour, width = ("#555", 1.2) if tick == 1 else ("#e3e3e3", 1)
        out.append(
            f"<line x1='{LEFT}' x2='{WIDTH - RIGHT}' y1='{ty:.1f}' y2='{ty:.1f}' "
            f"stroke='{colour}' stroke-width='{width}'/>"
        )
        out.append(
            f"<text x='{LEFT - 6}' y='{ty + 4:.1f}' text-anchor='end'>{tick_label(tick)}</text>"
        )
    out.append(
        f"<text transform='translate(16,{TOP + plot_h / 2}) rotate(-90)' text-anchor='middle'>"
        "figure / baseline median (log scale)</text>"
    )
    out.append(
        f"<line x1='{LEFT}' x2='{LEFT}' y1='{TOP}' y2='{bottom}' stroke='#555'/>"
        f"<line x1='{LEFT}' x2='{WIDTH - RIGHT}' y1='{bottom}' y2='{bottom}' stroke='#555'/>"
    )

    slot = plot_w / max(len(found), 1)
    bar = min(18.0, slot * 0.34)
    for i, group in enumerate(found):
        centre = LEFT + slot * (i + 0.5)
        bars = [
            (centre - bar - 1, ACTOR_COLOUR, group["ratio"], group["spread"]),
            (centre + 1, RAW_COLOUR, 1.0, group["base_spread"]),
        ]
        for left, colour, value, (lo, hi) in bars:
            top = y(value)
            out.append(
                f"<rect x='{left:.1f}' y='{top:.1f}' width='{bar:.1f}' "
                f"height='{bottom - top:.1f}' fill='{colour}'/>"
            )
            mid = left + bar / 2
            out.append(
                f"<path d='M{mid:.1f},{y(lo):.1f} V{y(hi):.1f} M{mid - 3:.1f},{y(lo):.1f} h6 "
                f"M{mid - 3:.1f},{y(hi):.1f} h6' stroke='#222' fill='none'/>"
            )
        label_y = y(group["ratio"]) - 4
        # A white outline keeps the figure readable where a whisker or a goal mark crosses it.
        out.append(
            f"<text x='{centre - bar / 2 - 1:.1f}' y='{label_y:.1f}' text-anchor='middle' "
            "font-size='10' stroke='white' stroke-width='3' paint-order='stroke'>"
            f"{fmt_ratio(group['ratio'])}</text>"
        )
        if group["goal"] is not None:
            gy = y(group["goal"])
            out.append(
                f"<path d='M{centre - bar - 5:.1f},{gy:.1f} h{2 * bar + 10:.1f}' "
                f"stroke='{GOAL_COLOUR}' stroke-width='2.5' stroke-dasharray='5,2'/>"
            )
        text = f"{group['label']} {'↑' if group['higher'] else '↓'}"
        out.append(
            f"<text transform='translate({centre + 3:.1f},{bottom + 10}) rotate(-55)' "
            f"text-anchor='end' font-size='10'>{escape(text)}</text>"
        )

    out.append(
        f"<text x='{WIDTH / 2}' y='{HEIGHT - 8}' text-anchor='middle' font-size='10' "
        "fill='#444'>Each group: one framework figure and its baseline, from the same run. "
        "The goals of W6 dispatcher are absolute (µs and bytes per actor), drawn here as "
        "ratios to the baseline.</text>"
    )
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main():
    args = parse_args()
    order = read_pairs(args.order, 2)
    baselines = {(w, v): b for w, v, b in read_pairs(args.baselines, 3)}
    results = read_results(args.tsv)
    found = groups(order, baselines, results)
    if not found:
        raise SystemExit("chart.py: no framework figure with a baseline figure to draw")
    with open(args.out, "w", encoding="utf-8") as svg:
        svg.write(draw(found, args.subtitle))


if __name__ == "__main__":
    main()

"""Failures per day by category as a stacked bar chart, laid out here and drawn as inline SVG.

Server-side geometry keeps the page free of JavaScript (the CSP forbids it); colours come from
CSS classes in the static stylesheet because the CSP also forbids inline styles.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from receiver.admin.query import DailyCounts
from receiver.catalog import CATEGORIES

WIDTH, HEIGHT = 900, 180
LEFT, BOTTOM, TOP = 40, 22, 8
PALETTE_SIZE = 12


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    css_class: str
    title: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    bars: list[Bar]
    #: (x, label) under the axis, thinned so labels never overlap
    day_labels: list[tuple[float, str]]
    #: (y, label) on the left axis
    count_labels: list[tuple[float, str]]
    legend: list[tuple[str, str, int]]  # (category, css class, total)
    baseline: float
    total: int
    caption: str


def category_class(category: str) -> str:
    order = list(CATEGORIES)
    index = order.index(category) if category in order else len(order)
    return f"c{index % PALETTE_SIZE}"


def build_chart(data: DailyCounts) -> Chart:
    days = [
        data.first_day + timedelta(days=n) for n in range((data.last_day - data.first_day).days + 1)
    ]
    totals = {day: 0 for day in days}
    for (day, _category), number in data.counts.items():
        totals[day] = totals.get(day, 0) + number
    peak = max(totals.values(), default=0) or 1
    plot_height = HEIGHT - BOTTOM - TOP
    slot = (WIDTH - LEFT) / len(days)
    bar_width = max(1.0, slot * 0.8)
    baseline = HEIGHT - BOTTOM
    categories = sorted({category for _day, category in data.counts}, key=category_class)

    bars = []
    for index, day in enumerate(days):
        y = float(baseline)
        for category in categories:
            number = data.counts.get((day, category), 0)
            if not number:
                continue
            height = number / peak * plot_height
            y -= height
            bars.append(
                Bar(
                    x=round(LEFT + index * slot + (slot - bar_width) / 2, 2),
                    y=round(y, 2),
                    width=round(bar_width, 2),
                    height=round(height, 2),
                    css_class=category_class(category),
                    title=f"{day.isoformat()}: {number} {category}",
                )
            )
    step = max(1, len(days) // 10)
    day_labels = [
        (round(LEFT + index * slot + slot / 2, 2), day.strftime("%b %d"))
        for index, day in enumerate(days)
        if index % step == 0
    ]
    count_labels = [
        (round(baseline - fraction * plot_height, 2), str(round(peak * fraction)))
        for fraction in (0, 0.5, 1)
    ]
    legend_totals: dict[str, int] = {}
    for (_day, category), number in data.counts.items():
        legend_totals[category] = legend_totals.get(category, 0) + number
    legend = [(c, category_class(c), legend_totals[c]) for c in categories]
    caption = f"{data.first_day.isoformat()} to {data.last_day.isoformat()} (UTC)"
    if data.truncated:
        caption += ", the last days of a longer range"
    return Chart(
        WIDTH,
        HEIGHT,
        bars,
        day_labels,
        count_labels,
        legend,
        baseline,
        sum(totals.values()),
        caption,
    )

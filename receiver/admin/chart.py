"""Failures per day by category as a stacked bar chart: laid out here, drawn by the
``admin/failures_chart.svg`` template as a standalone SVG document.

The chart is its own URL (``/admin/failures/chart.svg``) so the list page never waits for the
GROUP BY behind it (~150 ms at 1M rows); the page embeds it with ``<object>``, which keeps the
per-bar ``<title>`` tooltips that an ``<img>`` would lose. Server-side geometry keeps it free of
JavaScript. Colours are presentation attributes (``fill="#…"``) rather than the page
stylesheet's classes: a separate document cannot see the page's CSS, presentation attributes are
not inline styles (the chart's own CSP still forbids those), and one self-contained file needs no
second request for an ``<?xml-stylesheet?>``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

from receiver.catalog import CATEGORIES
from receiver.failures import DailyCounts

WIDTH = 900
LEFT, TOP = 40, 28  # room for the count labels, and for the caption above the plot
PLOT_HEIGHT = 150
DAY_LABEL_GAP = 16  # from the baseline to the day labels
LEGEND_GAP, LEGEND_ROW = 36, 16  # from the baseline to the first legend row; between rows
#: Average advance of one character of the 11-unit legend font, to wrap the legend in rows (an
#: SVG document cannot flow text the way the HTML legend did; over-estimated so items never touch).
LEGEND_CHAR_WIDTH = 6.6
SWATCH, SWATCH_GAP, ITEM_GAP = 10, 4, 16  # as the template draws them (10x10, text at +14)

#: A 12-colour qualitative palette (Tableau 10 and two more), by position in ``CATEGORIES``.
PALETTE = (
    "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948",
    "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac", "#1f77b4", "#8c564b",
)  # fmt: skip

#: Characters XML 1.0 forbids even as references: one in a category name would make the whole
#: document unparseable (HTML tolerated them; an SVG document shows an error page instead).
NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    fill: str
    title: str


@dataclass(frozen=True)
class LegendItem:
    x: float
    y: float  # the text's baseline
    category: str
    fill: str
    total: int


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    left: int
    bars: list[Bar]
    #: (x, label) under the axis, thinned so labels never overlap
    day_labels: list[tuple[float, str]]
    day_label_y: float
    #: (y, label) on the left axis
    count_labels: list[tuple[float, str]]
    legend: list[LegendItem]
    baseline: float
    total: int
    caption: str


def _category_rank(category: str) -> int:
    """Position in the catalog's category order; unknown names go last."""
    order = list(CATEGORIES)
    return order.index(category) if category in order else len(order)


def category_fill(category: str) -> str:
    return PALETTE[_category_rank(category) % len(PALETTE)]


def xml_text(text: str) -> str:
    """``text`` without the characters an XML document cannot hold (escaping is the template's)."""
    return NOT_XML.sub("\ufffd", text)


def build_chart(data: DailyCounts) -> Chart:
    days = [
        data.first_day + timedelta(days=n) for n in range((data.last_day - data.first_day).days + 1)
    ]
    totals = {day: 0 for day in days}
    for (day, _category), number in data.counts.items():
        totals[day] = totals.get(day, 0) + number
    peak = max(totals.values(), default=0) or 1
    slot = (WIDTH - LEFT) / len(days)
    bar_width = max(1.0, slot * 0.8)
    baseline = TOP + PLOT_HEIGHT
    categories = sorted(
        {category for _day, category in data.counts}, key=lambda c: (_category_rank(c), c)
    )

    bars = []
    for index, day in enumerate(days):
        y = float(baseline)
        for category in categories:
            number = data.counts.get((day, category), 0)
            if not number:
                continue
            height = number / peak * PLOT_HEIGHT
            y -= height
            bars.append(
                Bar(
                    x=round(LEFT + index * slot + (slot - bar_width) / 2, 2),
                    y=round(y, 2),
                    width=round(bar_width, 2),
                    height=round(height, 2),
                    fill=category_fill(category),
                    title=f"{day.isoformat()}: {number} {xml_text(category)}",
                )
            )
    step = max(1, len(days) // 10)
    day_labels = [
        (round(LEFT + index * slot + slot / 2, 2), day.strftime("%b %d"))
        for index, day in enumerate(days)
        if index % step == 0
    ]
    count_labels = [
        (round(baseline - fraction * PLOT_HEIGHT, 2), str(round(peak * fraction)))
        for fraction in (0, 0.5, 1)
    ]
    legend_totals: dict[str, int] = {}
    for (_day, category), number in data.counts.items():
        legend_totals[category] = legend_totals.get(category, 0) + number
    legend, last_row = layout_legend(
        [(xml_text(c), category_fill(c), legend_totals[c]) for c in categories],
        top=baseline + LEGEND_GAP,
    )
    caption = f"{data.first_day.isoformat()} to {data.last_day.isoformat()} (UTC)"
    if data.truncated:
        caption += ", the last days of a longer range"
    return Chart(
        width=WIDTH,
        height=round(last_row + SWATCH),
        left=LEFT,
        bars=bars,
        day_labels=day_labels,
        day_label_y=baseline + DAY_LABEL_GAP,
        count_labels=count_labels,
        legend=legend,
        baseline=baseline,
        total=sum(totals.values()),
        caption=caption,
    )


def layout_legend(
    entries: list[tuple[str, str, int]], top: float
) -> tuple[list[LegendItem], float]:
    """Legend items left to right, wrapped into rows of the chart's width; returns them and the
    baseline of the last row (the first row's when there are none)."""
    items: list[LegendItem] = []
    x, y = 0.0, top
    for category, fill, total in entries:
        width = SWATCH + SWATCH_GAP + len(f"{category} {total}") * LEGEND_CHAR_WIDTH
        if x > 0 and x + width > WIDTH:
            x, y = 0.0, y + LEGEND_ROW
        items.append(LegendItem(round(x, 2), y, category, fill, total))
        x += width + ITEM_GAP
    return items, y

"""Failures per day by category as a stacked bar chart: laid out here, drawn by the
``admin/failures_chart.svg`` template as a standalone SVG document.

Each category with the most failures gets its own colour of a colour-blind-safe palette (the rest
are one grey "other"); every bar and legend entry links to the failures list filtered to it
(``target="_top"``: the chart is an embedded document); the count axis has whole, distinct ticks.

The chart is its own URL (``/admin/failures/chart.svg``) so the list page never waits for the
GROUP BY behind it (~150 ms at 1M rows); the page embeds it with ``<object>``, which keeps the
per-bar ``<title>`` tooltips that an ``<img>`` would lose. Server-side geometry keeps it free of
JavaScript. Colours are presentation attributes (``fill="#…"``) rather than the page
stylesheet's classes: a separate document cannot see the page's CSS, presentation attributes are
not inline styles (the chart's own CSP still forbids those), and one self-contained file needs no
second request for an ``<?xml-stylesheet?>``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

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

#: Paul Tol's "muted" qualitative scheme, designed to stay distinct for colour-blind readers: one
#: colour each for the categories with the most failures in the chart, the rest are "other".
PALETTE = (
    "#CC6677", "#332288", "#DDCC77", "#117733", "#88CCEE",
    "#882255", "#44AA99", "#999933", "#AA4499",
)  # fmt: skip
OTHER = "other"
OTHER_FILL = "#BBBBBB"
#: Links of bars and legend entries: (category or None for "other", day or None) -> URL.
Linker = Callable[[str | None, date | None], str]

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
    href: str


@dataclass(frozen=True)
class LegendItem:
    x: float
    y: float  # the text's baseline
    category: str
    fill: str
    total: int
    href: str


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
    empty_note: str | None = None


def _category_rank(category: str) -> int:
    """Position in the catalog's category order; unknown names go last."""
    order = list(CATEGORIES)
    return order.index(category) if category in order else len(order)


def category_fills(totals: dict[str, int]) -> dict[str, str]:
    """The palette's colours for the categories with the most failures (ties in catalog order);
    every other category is drawn as ``other``."""
    ranked = sorted(totals, key=lambda c: (-totals[c], _category_rank(c), c))
    fills = dict(zip(ranked, PALETTE, strict=False))
    return {category: fills.get(category, OTHER_FILL) for category in ranked}


def count_ticks(peak: int) -> list[int]:
    """Whole, distinct ticks from 0 to at least ``peak`` (1-2-5 steps): 0, 1 for a peak of 1,
    0, 20, 40, 60, 80 for 61; just 0 for an empty chart."""
    if peak <= 0:
        return [0]
    step = _nice_step(peak / 4)
    return list(range(0, math.ceil(peak / step) * step + 1, step))


def _nice_step(rough: float) -> int:
    magnitude: int = 10 ** max(0, math.floor(math.log10(max(rough, 1))))
    for factor in (1, 2, 5, 10):
        if factor * magnitude >= rough:
            return factor * magnitude
    return 10 * magnitude


def xml_text(text: str) -> str:
    """``text`` without the characters an XML document cannot hold (escaping is the template's)."""
    return NOT_XML.sub("\ufffd", text)


def build_chart(data: DailyCounts, link: Linker) -> Chart:
    days = [
        data.first_day + timedelta(days=n) for n in range((data.last_day - data.first_day).days + 1)
    ]
    totals = {day: 0 for day in days}
    per_category: dict[str, int] = {}
    for (day, category), number in data.counts.items():
        totals[day] = totals.get(day, 0) + number
        per_category[category] = per_category.get(category, 0) + number
    fills = category_fills(per_category)
    # What is drawn: the coloured categories, most failures at the bottom, then "other".
    drawn = [c for c in fills if fills[c] != OTHER_FILL]
    others = {c for c in fills if fills[c] == OTHER_FILL}
    ticks = count_ticks(max(totals.values(), default=0))
    top = ticks[-1] or 1
    slot = (WIDTH - LEFT) / len(days)
    bar_width = max(1.0, slot * 0.8)
    baseline = TOP + PLOT_HEIGHT

    bars = []
    for index, day in enumerate(days):
        y = float(baseline)
        stack: list[tuple[str, int, str, str | None]] = [
            (c, data.counts.get((day, c), 0), fills[c], c) for c in drawn
        ]
        stack.append((OTHER, sum(data.counts.get((day, c), 0) for c in others), OTHER_FILL, None))
        for name, number, fill, linked in stack:
            if not number:
                continue
            height = number / top * PLOT_HEIGHT
            y -= height
            bars.append(
                Bar(
                    x=round(LEFT + index * slot + (slot - bar_width) / 2, 2),
                    y=round(y, 2),
                    width=round(bar_width, 2),
                    height=round(height, 2),
                    fill=fill,
                    title=f"{day.isoformat()}: {number} {xml_text(name)}",
                    href=link(linked, day),
                )
            )
    step = max(1, len(days) // 10)
    day_labels = [
        (round(LEFT + index * slot + slot / 2, 2), day.strftime("%b %d"))
        for index, day in enumerate(days)
        if index % step == 0
    ]
    count_labels = [(round(baseline - tick / top * PLOT_HEIGHT, 2), str(tick)) for tick in ticks]
    entries = [(xml_text(c), fills[c], per_category[c], link(c, None)) for c in drawn]
    if others:
        entries.append((OTHER, OTHER_FILL, sum(per_category[c] for c in others), link(None, None)))
    legend, last_row = layout_legend(entries, top=baseline + LEGEND_GAP)
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
        empty_note=None if per_category else "No failures in this range.",
    )


def layout_legend(
    entries: list[tuple[str, str, int, str]], top: float
) -> tuple[list[LegendItem], float]:
    """Legend items left to right, wrapped into rows of the chart's width; returns them and the
    baseline of the last row (the first row's when there are none)."""
    items: list[LegendItem] = []
    x, y = 0.0, top
    for category, fill, total, href in entries:
        width = SWATCH + SWATCH_GAP + len(f"{category} {total}") * LEGEND_CHAR_WIDTH
        if x > 0 and x + width > WIDTH:
            x, y = 0.0, y + LEGEND_ROW
        items.append(LegendItem(round(x, 2), y, category, fill, total, href))
        x += width + ITEM_GAP
    return items, y

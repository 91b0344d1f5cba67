# -*- coding: utf-8 -*-
# Copyright: shipyard.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Inline SVG charts for the deploy report, with no script and no external asset.

A report is opened from a job's artifacts, a mail or an S3 console, often with no network: the
charts are plain SVG elements inside the HTML, so they render anywhere and survive being saved.
"""

from __future__ import annotations

import math
from html import escape

WIDTH, HEIGHT = 700, 250
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 64, 180, 34, 42
COLORS = {
    "baseline": "#1f77b4",
    "canary": "#ff7f0e",
    "traffic": "#2ca02c",
    "threshold": "#d62728",
    "ok": "#2ca02c",
    "bad": "#d62728",
    "info": "#7f7f7f",
}


def nice_ticks(top, count=5):
    """Round tick values from 0 to at least ``top`` (1, 2, 2.5 or 5 times a power of ten)."""
    if top <= 0:
        top = 1.0
    raw = top / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(f * power for f in (1, 2, 2.5, 5, 10) if f * power >= raw)
    ticks = [0.0]
    while ticks[-1] < top - 1e-12:
        ticks.append(round(ticks[-1] + step, 10))
    return ticks


def time_ticks(first, last, count=6):
    """Round seconds between ``first`` and ``last`` (multiples of a 1-2-2.5-5 step)."""
    ticks = nice_ticks(last - first, count)
    step = ticks[1] if len(ticks) > 1 else 1.0
    tick = math.ceil(first / step - 1e-9) * step
    found = []
    while tick <= last + 1e-9:
        found.append(round(tick, 10))
        tick += step
    return found


def _label(value):
    return ("%.3f" % value).rstrip("0").rstrip(".") if value else "0"


def line_chart(name, title, series, y_unit, thresholds=(), step=False, x_range=None):
    """An SVG line chart.

    ``series``: ``[{"name", "color", "points": [(x_seconds, y)]}]`` (None values are gaps);
    ``thresholds``: ``[(label, y)]`` drawn as dashed lines; ``step``: hold each value until the
    next point (traffic weights change in steps, measurements do not); ``x_range``: ``(first, last)``
    seconds to show (charts drawn one above the other share it), else the points' own range.
    """
    xs = [x for s in series for x, y in s["points"] if y is not None]
    ys = [y for s in series for x, y in s["points"] if y is not None] + [y for _label_, y in thresholds]
    if not xs:
        return _empty(name, title)
    x_min, x_max = x_range or (min(xs), max(xs))
    if x_max - x_min < 1e-9:
        x_min, x_max = x_min - 1, x_max + 1
    ticks = nice_ticks(max(ys) * 1.1 if ys else 1.0)
    y_top = ticks[-1]
    plot_w = WIDTH - MARGIN_LEFT - MARGIN_RIGHT
    plot_h = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM

    def px(x):
        return MARGIN_LEFT + (x - x_min) / (x_max - x_min) * plot_w

    def py(y):
        return MARGIN_TOP + plot_h - (y / y_top) * plot_h

    out = [_open(name, title)]
    for tick in ticks:
        y = py(tick)
        out.append('<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#e0e0e0"/>'
                   % (MARGIN_LEFT, y, MARGIN_LEFT + plot_w, y))
        out.append('<text x="%d" y="%.1f" text-anchor="end" font-size="11" fill="#555">%s%s</text>'
                   % (MARGIN_LEFT - 6, y + 4, _label(tick), escape(y_unit)))
    for x in time_ticks(x_min, x_max):
        out.append('<text x="%.1f" y="%d" text-anchor="middle" font-size="11" fill="#555">+%ss</text>'
                   % (px(x), MARGIN_TOP + plot_h + 16, _label(x)))
    out.append('<text x="%d" y="%d" text-anchor="middle" font-size="11" fill="#555">seconds since the '
               'deployment started</text>' % (MARGIN_LEFT + plot_w // 2, HEIGHT - 6))
    out.append('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#333"/>'
               % (MARGIN_LEFT, MARGIN_TOP + plot_h, MARGIN_LEFT + plot_w, MARGIN_TOP + plot_h))
    legend = []
    for label, value in thresholds:
        y = py(value)
        out.append('<line class="threshold" x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="%s" stroke-width="1.5" '
                   'stroke-dasharray="6 4"><title>%s</title></line>'
                   % (MARGIN_LEFT, y, MARGIN_LEFT + plot_w, y, COLORS["threshold"], escape(label)))
        legend.append((label, COLORS["threshold"], True))
    for s in series:
        out.extend(_series(s, px, py, step, y_unit))
        legend.append((s["name"], s["color"], False))
    for index, (label, color, dashed) in enumerate(legend):
        y = MARGIN_TOP + 8 + index * 18
        x = WIDTH - MARGIN_RIGHT + 14
        out.append('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="3"%s/>'
                   % (x, y, x + 18, y, color, ' stroke-dasharray="5 3"' if dashed else ""))
        out.append('<text x="%d" y="%d" font-size="12" fill="#222">%s</text>' % (x + 24, y + 4, escape(label)))
    out.append("</svg>")
    return "\n".join(out)


def _series(series, px, py, step, y_unit):
    out = []
    runs, run = [], []
    for x, y in series["points"]:
        if y is None:
            if run:
                runs.append(run)
            run = []
        else:
            run.append((x, y))
    if run:
        runs.append(run)
    for run in runs:
        coords = []
        for index, (x, y) in enumerate(run):
            if step and index:
                coords.append("%.1f,%.1f" % (px(x), py(run[index - 1][1])))
            coords.append("%.1f,%.1f" % (px(x), py(y)))
        out.append('<polyline class="series" data-series="%s" fill="none" stroke="%s" stroke-width="2.5" '
                   'points="%s"/>' % (escape(series["name"]), series["color"], " ".join(coords)))
        for x, y in run:
            out.append('<circle cx="%.1f" cy="%.1f" r="4.5" fill="%s"><title>%s: %s%s at +%ss</title></circle>'
                       % (px(x), py(y), series["color"], escape(series["name"]), _label(y), escape(y_unit),
                          _label(x)))
    return out


def timeline_chart(steps):
    """Horizontal bars: when each step ran and how long it took, coloured by its status."""
    if not steps:
        return _empty("timeline", "Timeline")
    end = max(s["offset_seconds"] for s in steps) or 1.0
    row, label_w = 22, 250
    height = MARGIN_TOP + row * len(steps) + 30
    plot_w = WIDTH - label_w - 20
    out = [_open("timeline", "Steps and the time each took", height)]
    for index, s in enumerate(steps):
        y = MARGIN_TOP + index * row
        start = s["offset_seconds"] - s["took_seconds"]
        x = label_w + start / end * plot_w
        width = max(s["took_seconds"] / end * plot_w, 2.0)
        out.append('<text x="%d" y="%d" text-anchor="end" font-size="12" fill="#222">%s</text>'
                   % (label_w - 8, y + 14, escape(s["label"])))
        out.append('<rect class="step" x="%.1f" y="%d" width="%.1f" height="16" fill="%s">'
                   '<title>%s: %ss, ended at +%ss</title></rect>'
                   % (x, y + 2, width, COLORS.get(s["status"], COLORS["info"]), escape(s["label"]),
                      _label(s["took_seconds"]), _label(s["offset_seconds"])))
    axis_y = MARGIN_TOP + row * len(steps) + 4
    for tick in nice_ticks(end, 6):
        if tick <= end + 1e-9:
            out.append('<text x="%.1f" y="%d" text-anchor="middle" font-size="11" fill="#555">+%ss</text>'
                       % (label_w + tick / end * plot_w, axis_y + 14, _label(tick)))
    out.append("</svg>")
    return "\n".join(out)


def _open(name, title, height=HEIGHT):
    return ('<svg class="chart" data-chart="%s" xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" '
            'viewBox="0 0 %d %d" role="img" aria-label="%s" font-family="sans-serif">\n'
            '<text x="%d" y="20" font-size="14" font-weight="bold" fill="#222">%s</text>'
            % (escape(name), WIDTH, height, WIDTH, height, escape(title), MARGIN_LEFT, escape(title)))


def _empty(name, title):
    return (_open(name, title, 60) + '\n<text x="%d" y="44" font-size="12" fill="#555">nothing recorded</text>\n</svg>'
            % MARGIN_LEFT)

"""Bar charts drawn on the server as SVG (no script): one bar per day or month, the largest
value at full height, a few axis labels. Values are given; nothing is computed here."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from markupsafe import Markup, escape

WIDTH = 640
HEIGHT = 200
MARGIN_LEFT = 48
MARGIN_BOTTOM = 28
MARGIN_TOP = 10


@dataclass(frozen=True)
class Point:
    label: str  # shown under the bar (every few bars when many)
    value: Decimal
    shown: str  # the value as text, for the bar's tooltip and the table


def bar_chart(
    title: str,
    points: list[Point],
    *,
    axis_max_label: str,
    target: Decimal | None = None,
    target_label: str = "",
) -> Markup:
    """An SVG bar chart with ``title`` for screen readers; ``target`` draws the contract's
    target as a dashed line (e.g. the minimum answer-seizure ratio)."""
    plot_w = WIDTH - MARGIN_LEFT - 8
    plot_h = HEIGHT - MARGIN_BOTTOM - MARGIN_TOP
    top = max(
        [p.value for p in points] + ([target] if target is not None else []), default=Decimal(0)
    )
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'xmlns="http://www.w3.org/2000/svg" preserveAspectRatio="xMidYMid meet">',
        f"<title>{escape(title)}</title>",
        f'<line x1="{MARGIN_LEFT}" y1="{MARGIN_TOP + plot_h}" x2="{WIDTH - 8}" '
        f'y2="{MARGIN_TOP + plot_h}" stroke="#555" stroke-width="1"/>',
        f'<text x="{MARGIN_LEFT - 4}" y="{MARGIN_TOP + 10}" text-anchor="end" '
        f'font-size="11" fill="#333">{escape(axis_max_label)}</text>',
        f'<text x="{MARGIN_LEFT - 4}" y="{MARGIN_TOP + plot_h}" text-anchor="end" '
        f'font-size="11" fill="#333">0</text>',
    ]
    if points:
        slot = plot_w / len(points)
        bar = max(1.0, slot * 0.7)
        every = max(1, len(points) // 8)
        for index, point in enumerate(points):
            height = float(point.value / top) * plot_h if top > 0 else 0.0
            x = MARGIN_LEFT + index * slot + (slot - bar) / 2
            y = MARGIN_TOP + plot_h - height
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{height:.1f}" '
                f'fill="#1f5fa8"><title>{escape(point.label)} : {escape(point.shown)}'
                "</title></rect>"
            )
            if index % every == 0:
                parts.append(
                    f'<text x="{x + bar / 2:.1f}" y="{HEIGHT - 10}" text-anchor="middle" '
                    f'font-size="10" fill="#333">{escape(point.label)}</text>'
                )
    if target is not None and top > 0:
        y = MARGIN_TOP + plot_h - float(target / top) * plot_h
        label_y = y - 4 if y - 4 > MARGIN_TOP + 10 else y + 14  # inside the plot, readable
        parts.append(
            f'<line x1="{MARGIN_LEFT}" y1="{y:.1f}" x2="{WIDTH - 8}" y2="{y:.1f}" '
            f'stroke="#b3261e" stroke-width="2" stroke-dasharray="6 4"/>'
            f'<text x="{WIDTH - 10}" y="{label_y:.1f}" text-anchor="end" font-size="11" '
            f'fill="#b3261e">{escape(target_label)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))

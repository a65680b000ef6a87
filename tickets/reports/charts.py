"""Server-side SVG charts: pure Python producing accessible SVG strings (no network, no JS).

Each chart carries a `<title>` and a `<desc>` that states the figures in words, is labelled by
them for screen readers, and scales to its container through its `viewBox`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import count

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

MET_COLOUR = "#1a7f4b"
BREACHED_COLOUR = "#b42318"
AXIS_COLOUR = "#98a2b3"
TEXT_COLOUR = "#344054"
_ids = count(1)


@dataclass(frozen=True)
class Bar:
    label: str
    met: int
    breached: int

    @property
    def total(self) -> int:
        return self.met + self.breached

    @property
    def achievement(self) -> float | None:
        return round(100 * self.met / self.total, 1) if self.total else None


def svg_open(width: int, height: int, title: str, desc: str) -> str:
    n = next(_ids)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'class="sla-chart" role="img" aria-labelledby="chart{n}-title chart{n}-desc" '
        f'preserveAspectRatio="xMidYMid meet" font-family="system-ui, sans-serif">'
        f'<title id="chart{n}-title">{escape(title)}</title>'
        f'<desc id="chart{n}-desc">{escape(desc)}</desc>'
    )


def nice_max(value: int) -> int:
    """A round axis maximum at or above `value` (1, 2, 5 x 10^n)."""
    if value <= 0:
        return 1
    step = 1
    while True:
        for factor in (1, 2, 5):
            if step * factor >= value:
                return step * factor
        step *= 10


# Font sizes in the charts' own units: a chart is drawn 440-640 units wide and shown 450-800 px
# wide, so labels stay at about 13 px or more on a laptop.
FONT = 15
FONT_SMALL = 14


def legend(x: int, y: int) -> str:
    return (
        f'<rect x="{x}" y="{y - 11}" width="12" height="12" fill="{MET_COLOUR}"/>'
        f'<text x="{x + 17}" y="{y}" font-size="{FONT}" fill="{TEXT_COLOUR}">Met on time</text>'
        f'<rect x="{x + 120}" y="{y - 11}" width="12" height="12" fill="{BREACHED_COLOUR}"/>'
        f'<text x="{x + 137}" y="{y}" font-size="{FONT}" fill="{TEXT_COLOUR}">Breached</text>'
    )


def trend_chart(bars: Sequence[Bar], *, title: str = "SLA trend by week") -> SafeString:
    """Stacked columns per week (met on time below, breached above), achievement % on top."""
    width, height = 640, 260
    left, right, top, bottom = 40, 10, 34, 36
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = nice_max(max((b.total for b in bars), default=0))
    parts = [svg_open(width, height, title, trend_description(bars)), legend(left, 16)]
    for tick in (0, peak // 2, peak) if peak > 1 else (0, peak):
        y = top + plot_h - plot_h * tick / peak
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" '
            f'stroke="{AXIS_COLOUR}" stroke-width="0.5"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" font-size="{FONT}" text-anchor="end" '
            f'fill="{TEXT_COLOUR}">{tick}</text>'
        )
    slot = plot_w / max(len(bars), 1)
    bar_w = min(48.0, slot * 0.6)
    label_every = max(1, -(-len(bars) // 12))  # at most 12 axis labels and percentages
    for i, bar in enumerate(bars):
        x = left + slot * i + (slot - bar_w) / 2
        met_h = plot_h * bar.met / peak
        breached_h = plot_h * bar.breached / peak
        base = top + plot_h
        parts.append(
            f'<rect x="{x:.1f}" y="{base - met_h:.1f}" width="{bar_w:.1f}" height="{met_h:.1f}" '
            f'fill="{MET_COLOUR}"><title>{escape(bar.label)}: {bar.met} met on time</title></rect>'
            f'<rect x="{x:.1f}" y="{base - met_h - breached_h:.1f}" width="{bar_w:.1f}" '
            f'height="{breached_h:.1f}" fill="{BREACHED_COLOUR}">'
            f"<title>{escape(bar.label)}: {bar.breached} breached</title></rect>"
        )
        centre = x + bar_w / 2
        if i % label_every:
            continue
        if bar.achievement is not None:
            parts.append(
                f'<text x="{centre:.1f}" y="{base - met_h - breached_h - 4:.1f}" '
                f'font-size="{FONT_SMALL}" '
                f'text-anchor="middle" fill="{TEXT_COLOUR}">{bar.achievement:g}%</text>'
            )
        parts.append(
            f'<text x="{centre:.1f}" y="{height - bottom + 16}" font-size="{FONT}" '
            f'text-anchor="middle" fill="{TEXT_COLOUR}">{escape(bar.label)}</text>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # every label above is escaped


def trend_description(bars: Sequence[Bar]) -> str:
    if not bars:
        return "No weeks in the period."
    weeks = "; ".join(
        f"week of {b.label}: {b.met} met on time, {b.breached} breached"
        + (f" ({b.achievement:g}% achieved)" if b.achievement is not None else "")
        for b in bars
    )
    return f"Clocks met on time and breached per week. {weeks}."


def severity_chart(bars: Sequence[Bar], *, title: str = "Breaches by severity") -> SafeString:
    """Horizontal bars: breached clocks per severity, with met on time for scale."""
    row_h, left, right, top = 38, 100, 84, 32
    width = 440
    height = top + row_h * max(len(bars), 1) + 8
    plot_w = width - left - right
    peak = nice_max(max((b.total for b in bars), default=0))
    parts = [svg_open(width, height, title, severity_description(bars)), legend(left, 16)]
    if not bars:
        parts.append(
            f'<text x="{left}" y="{top + 20}" font-size="{FONT}" fill="{TEXT_COLOUR}">'
            "No clocks counted in the period.</text>"
        )
    for i, bar in enumerate(bars):
        y = top + row_h * i + 6
        breached_w = plot_w * bar.breached / peak
        met_w = plot_w * bar.met / peak
        parts.append(
            f'<text x="{left - 8}" y="{y + 17}" font-size="{FONT}" text-anchor="end" '
            f'fill="{TEXT_COLOUR}">{escape(bar.label)}</text>'
            f'<rect x="{left}" y="{y}" width="{breached_w:.1f}" height="24" '
            f'fill="{BREACHED_COLOUR}"><title>{escape(bar.label)}: {bar.breached} breached'
            f"</title></rect>"
            f'<rect x="{left + breached_w:.1f}" y="{y}" width="{met_w:.1f}" height="24" '
            f'fill="{MET_COLOUR}" opacity="0.35"><title>{escape(bar.label)}: {bar.met} met on '
            f"time</title></rect>"
            f'<text x="{left + breached_w + met_w + 6:.1f}" y="{y + 17}" font-size="{FONT}" '
            f'fill="{TEXT_COLOUR}">{bar.breached} of {bar.total}</text>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # every label above is escaped


def severity_description(bars: Sequence[Bar]) -> str:
    if not bars:
        return "No clocks counted in the period."
    items = "; ".join(f"{b.label}: {b.breached} breached of {b.total}" for b in bars)
    return f"Breached clocks per severity level. {items}."

"""SVG charts drawn on the server for the supervisors' page (no JavaScript, no assets): pure functions from
figures to SVG text. Shares (0-1) are drawn as percentages; a missing value (denominator 0) is not drawn."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#17becf", "#7f7f7f")


def _fmt(value: float, unit: str) -> str:
    if unit == "share":
        return f"{100 * value:.0f}%"
    if unit == "nps":
        return f"{value:.0f}"
    return f"{value:.1f}"


def bar_chart(title: str, bars: Sequence[tuple[str, float | None, int]], unit: str = "share",
              width: int = 460) -> str:
    """Horizontal bars, one per group: label, value (None: no data) and the count behind it (n=...)."""
    row, left, top = 22, 150, 28
    height = top + row * max(len(bars), 1) + 10
    scale_max = 1.0 if unit == "share" else max([abs(v) for _, v, _ in bars if v is not None] or [1.0]) or 1.0
    span = width - left - 90
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
             f'aria-label="{escape(title)}" class="chart">',
             f'<text x="4" y="16" font-size="13" font-weight="bold">{escape(title)}</text>']
    for i, (label, value, count) in enumerate(bars):
        y = top + i * row
        parts.append(f'<text x="{left - 6}" y="{y + 14}" font-size="12" text-anchor="end">{escape(label[:22])}</text>')
        if value is None:
            parts.append(f'<text x="{left + 4}" y="{y + 14}" font-size="11" fill="#888">— (n=0)</text>')
            continue
        length = max(1.0, span * min(abs(value) / scale_max, 1.0))
        parts.append(f'<rect x="{left}" y="{y + 3}" width="{length:.1f}" height="{row - 8}" '
                     f'fill="{PALETTE[0] if value >= 0 else PALETTE[1]}"><title>{escape(label)}: '
                     f'{_fmt(value, unit)} (n={count})</title></rect>')
        parts.append(f'<text x="{left + length + 4:.1f}" y="{y + 14}" font-size="11">{_fmt(value, unit)} '
                     f'(n={count})</text>')
    parts.append("</svg>")
    return "".join(parts)


def line_chart(title: str, months: Sequence[str], series: Sequence[tuple[str, Sequence[float | None]]],
               width: int = 620, height: int = 260) -> str:
    """Shares (0-1) by month, one line per KPI; a month without data breaks the line."""
    left, right, top, bottom = 40, 150, 28, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
             f'aria-label="{escape(title)}" class="chart">',
             f'<text x="4" y="16" font-size="13" font-weight="bold">{escape(title)}</text>']
    for pct in (0, 25, 50, 75, 100):
        y = top + plot_h * (1 - pct / 100)
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" stroke="#ddd"/>'
                     f'<text x="{left - 4}" y="{y + 4:.1f}" font-size="10" text-anchor="end">{pct}%</text>')
    step = plot_w / max(len(months) - 1, 1)

    def x_of(i: int) -> float:
        return left + (step * i if len(months) > 1 else plot_w / 2)

    for i, month in enumerate(months):
        parts.append(f'<text x="{x_of(i):.1f}" y="{top + plot_h + 16}" font-size="10" '
                     f'text-anchor="middle">{escape(month)}</text>')
    for n, (name, values) in enumerate(series):
        colour = PALETTE[n % len(PALETTE)]
        run: list[str] = []
        for i, value in enumerate(values):
            if value is None:
                if len(run) > 1:
                    parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{" ".join(run)}"/>')
                run = []
                continue
            x, y = x_of(i), top + plot_h * (1 - min(max(value, 0.0), 1.0))
            run.append(f"{x:.1f},{y:.1f}")
            parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}"><title>{escape(name)} '
                         f'{escape(months[i])}: {_fmt(value, "share")}</title></circle>')
        if len(run) > 1:
            parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{" ".join(run)}"/>')
        ly = top + 14 * n
        parts.append(f'<rect x="{left + plot_w + 10}" y="{ly}" width="10" height="10" fill="{colour}"/>'
                     f'<text x="{left + plot_w + 24}" y="{ly + 9}" font-size="11">{escape(name)}</text>')
    parts.append("</svg>")
    return "".join(parts)

"""Dashboard charts drawn on the server as SVG pictures (no script, no inline style: the CSP allows neither).

Each chart is an <svg role="img"> with a <title> and a <desc> that states the figures, so a screen
reader hears the numbers a sighted person sees. Every text goes through markupsafe's escape.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from markupsafe import Markup, escape

PALETTE = ("#b71c1c", "#1565c0", "#2e7d32", "#6a1b9a", "#ef6c00", "#37474f")
WIDTH = 640
BAR_H = 22
GAP = 8
LABEL_W = 190


def _uid(title: str) -> str:
    return "c" + hashlib.sha256(title.encode()).hexdigest()[:10]


def _esc(text: object) -> str:
    return str(escape(str(text)))


def horizontal_bars(title: str, rows: Sequence[tuple[str, float]], *, unit: str = "",
                    fmt: object = None, marks: Sequence[bool] | None = None,
                    notes: Sequence[str] | None = None) -> Markup:
    """One bar per row; `marks` paints a row in the warning colour (below standard, overdue); `notes` follow
    each row's figure (the standard a row is measured against)."""
    shown = list(rows)
    uid = _uid(title)
    top = max((v for _, v in shown), default=0) or 1
    height = max(1, len(shown)) * (BAR_H + GAP) + 30
    span = WIDTH - LABEL_W - (150 if notes else 70)
    show = fmt if callable(fmt) else (lambda v: f"{v:g}")
    desc = "；".join(f"{label}：{show(v)}{unit}{notes[i] if notes else ''}"
                    for i, (label, v) in enumerate(shown)) or "—"
    parts = [f'<svg class="chart" role="img" viewBox="0 0 {WIDTH} {height}" xmlns="http://www.w3.org/2000/svg" '
             f'aria-labelledby="t-{uid} d-{uid}">',
             f'<title id="t-{uid}">{_esc(title)}</title><desc id="d-{uid}">{_esc(desc)}</desc>']
    for i, (label, value) in enumerate(shown):
        y = 10 + i * (BAR_H + GAP)
        w = 0 if value <= 0 else max(2, round(span * value / top))
        colour = PALETTE[0] if marks and marks[i] else PALETTE[1]
        parts.append(f'<text x="{LABEL_W - 6}" y="{y + 16}" text-anchor="end" font-size="13" fill="#1d1d1f">'
                     f'{_esc(label if len(label) <= 13 else label[:12] + "…")}</text>')
        parts.append(f'<rect x="{LABEL_W}" y="{y}" width="{w}" height="{BAR_H}" fill="{colour}" rx="2"/>')
        parts.append(f'<text x="{LABEL_W + w + 6}" y="{y + 16}" font-size="13" fill="#1d1d1f">'
                     f'{_esc(show(value))}{_esc(unit)}{_esc(notes[i]) if notes else ""}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text in it went through escape() above


def stacked_columns(title: str, columns: Sequence[tuple[str, dict[str, float]]],
                    series: Sequence[tuple[str, str]]) -> Markup:
    """Columns (e.g. months) stacked by series (e.g. outcomes); `series` is (key, label), with a legend."""
    cols = list(columns)
    uid = _uid(title)
    height, base, left = 260, 210, 40
    top = max((sum(c.values()) for _, c in cols), default=0) or 1
    step = (WIDTH - left - 10) / max(1, len(cols))
    bar_w = min(48.0, step * 0.7)
    desc = "；".join(f"{label}：" + "，".join(f"{s_label} {int(c.get(key, 0))}" for key, s_label in series)
                    for label, c in cols) or "—"
    parts = [f'<svg class="chart" role="img" viewBox="0 0 {WIDTH} {height}" xmlns="http://www.w3.org/2000/svg" '
             f'aria-labelledby="t-{uid} d-{uid}">',
             f'<title id="t-{uid}">{_esc(title)}</title><desc id="d-{uid}">{_esc(desc)}</desc>',
             f'<line x1="{left}" y1="{base}" x2="{WIDTH - 5}" y2="{base}" stroke="#5f6368"/>',
             f'<text x="{left - 6}" y="{base - 170}" text-anchor="end" font-size="12" fill="#1d1d1f">'
             f'{int(top)}</text>']
    for i, (label, counts) in enumerate(cols):
        x = left + i * step + (step - bar_w) / 2
        y = float(base)
        for j, (key, _) in enumerate(series):
            h = 170 * counts.get(key, 0) / top
            if h > 0:
                y -= h
                parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
                             f'fill="{PALETTE[j % len(PALETTE)]}"/>')
        parts.append(f'<text x="{x + bar_w / 2:.1f}" y="{base + 16}" text-anchor="middle" font-size="12" '
                     f'fill="#1d1d1f">{_esc(label)}</text>')
    for j, (_, s_label) in enumerate(series):
        x = left + j * 100
        parts.append(f'<rect x="{x}" y="{base + 28}" width="12" height="12" fill="{PALETTE[j % len(PALETTE)]}"/>'
                     f'<text x="{x + 16}" y="{base + 39}" font-size="12" fill="#1d1d1f">{_esc(s_label)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text in it went through escape() above

"""The report's charts and its PDF page layout (matplotlib, Agg; no pyplot state).

Every chart is laid out in inches on a `Box`, a rectangle of a figure, so the same drawing code makes a
stand-alone PNG for the HTML report and a region of a PDF page. Layout is computed here rather than by
tight_layout/constrained_layout: those are slow and cannot place several charts on one page.
"""
from __future__ import annotations

import base64
import io
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable, Sequence

import numpy as np
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties, findfont, get_font
from matplotlib.ticker import MaxNLocator

# DejaVu Sans ships with matplotlib and covers Kazakh and Kyrgyz letters (ә ғ қ ң ө ұ ү һ і).
STYLE = {
    "font.family": "DejaVu Sans", "font.size": 8, "axes.linewidth": 0.6, "axes.edgecolor": "#888888",
    "xtick.color": "#444444", "ytick.color": "#222222", "xtick.labelsize": 7.5, "ytick.labelsize": 8,
    "xtick.major.size": 2.5, "ytick.major.size": 0, "pdf.fonttype": 42,
}
DPI = 100
INK, MUTED, GRID = "#222222", "#666666", "#dddddd"
OVERALL, CITY = "#1f4e79", "#5b9bd5"
LIKERT = ("#b2182b", "#ef8a62", "#cfcfcf", "#67a9cf", "#2166ac")  # 1..5, red = disagree, blue = agree
LINE_IN = 0.145  # one 8 pt text line
PAGE, MARGIN = (11.69, 8.27), 0.45  # A4 landscape: the widest charts need it
MAX_W = PAGE[0] - 2 * MARGIN  # every chart fits a PDF page's width, and then ~1:1 in the HTML column


class Numbers:
    """Numbers as the report's language writes them: 3 534,572 and 59,16% (ru, kk, ky); 3,534.572 and 59.16% (en)."""

    def __init__(self, language: str):
        self.point, self.group = (".", ",") if language == "en" else (",", "\u00a0")  # no-break space

    def num(self, x: float, decimals: int = 2) -> str:
        if x is None or not np.isfinite(x):
            return "–"
        text = f"{x:,.{decimals}f}"
        return text.replace(",", "\x00").replace(".", self.point).replace("\x00", self.group)

    def int(self, n: int) -> str:
        return self.num(float(n), 0)

    def pct(self, share: float, decimals: int = 1) -> str:
        return "–" if share is None or not np.isfinite(share) else self.num(share * 100, decimals) + "%"


@lru_cache(maxsize=None)
def _advance(char: str, size: float, bold: bool) -> float:
    font = get_font(findfont(FontProperties(family=STYLE["font.family"], weight="bold" if bold else "normal")))
    font.set_size(size, 72)
    return font.load_char(ord(char)).linearHoriAdvance / 65536 / 72


@lru_cache(maxsize=8192)
def text_in(text: str, size: float = 8.0, bold: bool = False) -> float:
    """About the width of one line of text in inches (to size label areas and wrap text).

    Summed glyph advances, 5% over for hinting and kerning: FreeType's own layout of a string costs ~1 ms,
    and a PDF report measures thousands of candidate lines."""
    return 1.05 * sum(_advance(c, size, bold) for c in text)


def fit_in(text: str, width: float, size: float = 8.0, bold: bool = False) -> str:
    """`text`, cut with an ellipsis where it is wider than `width` inches."""
    if text_in(text, size, bold) <= width + 1e-6:
        return text
    while len(text) > 1 and text_in(text + "…", size, bold) > width:
        text = text[:-1]
    return text.rstrip() + "…"


def wrap_in(text: str, width: float, size: float = 8.0, bold: bool = False, max_lines: int = 0) -> list[str]:
    """Words of `text` in lines no wider than `width` inches; past `max_lines` the last line ends in "…"."""
    lines, line = [], ""
    for word in text.split():
        candidate = f"{line} {word}" if line else word
        if line and text_in(candidate, size, bold) > width:
            lines.append(line)
            candidate = word
        line = candidate
    lines = lines + [line] if line or not lines else lines
    if max_lines and len(lines) > max_lines:
        lines = lines[:max_lines - 1] + [fit_in(" ".join(lines[max_lines - 1:]), width, size, bold)]
    return [fit_in(x, width, size, bold) for x in lines]


def widest(lines, size: float = 8.0, bold: bool = False) -> float:
    return max((text_in(s, size, bold) for s in lines), default=0.0)


@dataclass
class Box:
    """A w × h inch region of `fig` whose lower-left corner is (x0, y0) inches from the figure's."""
    fig: Figure
    x0: float
    y0: float
    w: float
    h: float

    def axes(self, left: float, bottom: float, width: float, height: float):
        fw, fh = self.fig.get_size_inches()
        return self.fig.add_axes(((self.x0 + left) / fw, (self.y0 + bottom) / fh, width / fw, height / fh))

    def canvas(self):
        """One axes over the whole box, in inches from its top-left corner, without axis or ticks.

        Drawing bars and labels on it by hand is several times faster than one axes per panel: an axes with
        ticks costs ~70 ms to render, and a report has over a hundred panels."""
        ax = self.axes(0, 0, self.w, self.h)
        ax.set_xlim(0, self.w)
        ax.set_ylim(self.h, 0)
        ax.set_axis_off()
        return ax


@dataclass
class Chart:
    """A figure of the report: `draw(box)` fills a box of `width` × `height` inches."""
    id: str
    width: float
    height: float
    draw: Callable[[Box], None]
    question: str | None = None  # the survey question it shows, if any
    alt: str = ""


def png_base64(chart: Chart) -> str:
    fig = Figure(figsize=(chart.width, chart.height), dpi=DPI)
    chart.draw(Box(fig, 0, 0, chart.width, chart.height))
    buf = io.BytesIO()
    # metadata=None entries drop matplotlib's "Software" chunk, which carries its web address
    fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None})
    return base64.b64encode(buf.getvalue()).decode("ascii")


@dataclass
class Panel:
    title: str
    n: int
    values: np.ndarray  # shares 0..1 per option (choice questions) or per scale point (statements)
    overall: bool = False


def _rects(ax, left, top, width, height, colors) -> None:
    """Rectangles (inches, y down) as one collection: much faster than a patch per bar with barh."""
    left, top, width, height = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (left, top, width, height)))
    corners = np.stack([np.stack([left, top], -1), np.stack([left + width, top], -1),
                        np.stack([left + width, top + height], -1), np.stack([left, top + height], -1)], axis=-2)
    ax.add_collection(PolyCollection(corners.reshape(-1, 4, 2), facecolors=colors, linewidths=0), autolim=False)


def _stripes(ax, x0: float, x1: float, top: float, row: float, rows: int) -> None:
    # Light bands on every other row, so a row can be followed across the city panels
    starts = top + np.arange(0, rows, 2) * row
    _rects(ax, x0, starts, x1 - x0, row, "#f3f5f8")


def choice_chart(cid: str, question: str | None, labels: Sequence[str], panels: Sequence[Panel], fmt: Numbers,
                 alt: str = "") -> Chart:
    """Horizontal bars of the share of each option: the whole sample, then one small panel per city."""
    widths = [1.6 if p.overall else 1.0 for p in panels]
    room, gap = 0.4, 0.12  # room: the percentage after the longest bar
    panels_w = sum(widths) + gap * len(panels)
    wrapped = [wrap_in(label, min(2.9, MAX_W - panels_w) - 0.2, 8, max_lines=4) for label in labels]
    row = max(0.26, LINE_IN * max(len(w) for w in wrapped) + 0.07)
    label_w = widest([line for w in wrapped for line in w]) + 0.2
    titles = [wrap_in(p.title, w - 0.05, 8, p.overall, max_lines=2) + [f"n = {fmt.int(p.n)}"]
              for p, w in zip(panels, widths)]
    top = LINE_IN * max(len(t) for t in titles) + 0.12
    width = label_w + panels_w
    height = top + row * len(labels) + 0.06
    xmax = max([float(np.nanmax(p.values)) for p in panels if p.n] + [0.05])
    scale = min(w - room for w in widths) / xmax  # inches per share, the same in every panel

    def draw(box: Box) -> None:
        ax = box.canvas()
        _stripes(ax, 0, width, top, row, len(labels))
        y = top + (np.arange(len(labels)) + 0.5) * row
        for yi, lines in zip(y, wrapped):
            ax.text(label_w - 0.1, yi, "\n".join(lines), ha="right", va="center", fontsize=8, color=INK,
                    linespacing=1.05)
        x = label_w
        for p, w, title in zip(panels, widths, titles):
            ax.plot([x, x], [top, top + row * len(labels)], color=MUTED, linewidth=0.6)
            ax.text(x + w / 2 - room / 2, top - 0.06, "\n".join(title), ha="center", va="bottom", fontsize=8,
                    color=INK, fontweight="bold" if p.overall else "normal", linespacing=1.1)
            if p.n:
                values = np.nan_to_num(p.values)
                _rects(ax, x, y - row * 0.34, values * scale, row * 0.68, OVERALL if p.overall else CITY)
                for yi, v in zip(y, values):
                    ax.text(x + v * scale + 0.04, yi, fmt.pct(v, 1 if p.overall else 0), va="center", ha="left",
                            fontsize=7.5 if p.overall else 7, color=INK)
            x += w + gap

    return Chart(cid, width, height, draw, question, alt)


def _diverging(ax, shares: np.ndarray, fmt: Numbers, center: float, scale: float, y: np.ndarray,
               bar: float) -> None:
    """Rows of 1..5 shares stacked around `center`: 1–2 left, 4–5 right, 3 astride the line."""
    shares = np.nan_to_num(np.asarray(shares, dtype=float))
    before = np.cumsum(shares, axis=1) - shares  # the share left of each segment
    lefts = center + (before - shares[:, :2].sum(axis=1, keepdims=True) - shares[:, 2:3] / 2) * scale
    _rects(ax, lefts, (y - bar / 2)[:, None], shares * scale, bar, np.tile(LIKERT, len(y)))
    ends = lefts[:, -1] + shares[:, -1] * scale
    for yi, values, lo, hi in zip(y, shares, lefts[:, 0], ends):
        if values.sum() == 0:
            continue
        ax.text(lo - 0.04, yi, fmt.pct(values[0] + values[1], 0), ha="right", va="center", fontsize=7,
                color=LIKERT[0])
        ax.text(hi + 0.04, yi, fmt.pct(values[3] + values[4], 0), ha="left", va="center", fontsize=7,
                color=LIKERT[4])
    ax.plot([center, center], [y[0] - bar, y[-1] + bar], color=MUTED, linewidth=0.6)


def _sides(ax, center: float, y: float, disagree: str, agree: str) -> None:
    ax.text(center - 0.1, y, "← " + disagree, ha="right", va="bottom", fontsize=7, color=LIKERT[0])
    ax.text(center + 0.1, y, agree + " →", ha="left", va="bottom", fontsize=7, color=LIKERT[4])


def statement_chart(cid: str, question: str, panels: Sequence[Panel], fmt: Numbers, disagree: str, agree: str,
                    alt: str = "") -> Chart:
    """One statement: a diverging bar of the 1–5 answers for the whole sample and each city."""
    labels = [f"{p.title}, n = {fmt.int(p.n)}" for p in panels]
    row, top = 0.23, 0.24
    label_w = widest(labels, 7.5, True) + 0.18
    width, height = label_w + 5.8, top + row * len(panels) + 0.05
    center = label_w + (width - label_w) / 2
    scale = (width - label_w) / 2 / 1.2  # inches per share; 1.2 leaves room for the percentages

    def draw(box: Box) -> None:
        ax = box.canvas()
        y = top + (np.arange(len(panels)) + 0.5) * row
        for yi, label, p in zip(y, labels, panels):
            ax.text(label_w - 0.08, yi, label, ha="right", va="center", fontsize=7.5, color=INK,
                    fontweight="bold" if p.overall else "normal")
        _diverging(ax, np.array([p.values for p in panels], dtype=float), fmt, center, scale, y, row * 0.7)
        _sides(ax, center, top - 0.04, disagree, agree)

    return Chart(cid, width, height, draw, question, alt)


def statements_overview(cid: str, labels: Sequence[str], shares: np.ndarray, scale_labels: Sequence[str],
                        fmt: Numbers, disagree: str, agree: str, alt: str = "") -> Chart:
    """All statements of the whole sample in one diverging chart, with the scale's legend."""
    short = [fit_in(s, MAX_W - 5.2, 7.5) for s in labels]
    row = 0.25
    label_w = widest(short, 7.5) + 0.18
    width = max(9.0, label_w + 5.0)
    legend = [wrap_in(f"{k} – {s}", width / 5 - 0.45, 7.5, max_lines=3)
              for k, s in enumerate(scale_labels, start=1)]
    top = LINE_IN * max(len(s) for s in legend) + 0.45
    height = top + row * len(labels) + 0.05
    center = label_w + (width - label_w) / 2
    scale = (width - label_w) / 2 / 1.2

    def draw(box: Box) -> None:
        ax = box.canvas()
        _stripes(ax, 0, width, top, row, len(labels))
        y = top + (np.arange(len(labels)) + 0.5) * row
        for yi, label in zip(y, short):
            ax.text(label_w - 0.08, yi, label, ha="right", va="center", fontsize=7.5, color=INK)
        _diverging(ax, shares, fmt, center, scale, y, row * 0.68)
        _sides(ax, center, top - 0.04, disagree, agree)
        step = width / len(legend)
        for k, (color, lines) in enumerate(zip(LIKERT, legend)):
            x = k * step + 0.15
            _rects(ax, x, 0.06, 0.16, 0.12, color)
            ax.text(x + 0.22, 0.03, "\n".join(lines), ha="left", va="top", fontsize=7.5, color=INK,
                    linespacing=1.05)

    return Chart(cid, width, height, draw, None, alt)


@dataclass
class Estimate:
    label: str
    n: int
    mean: float
    low: float
    high: float
    overall: bool = False


def factor_chart(cid: str, factors: Sequence[tuple[str, Sequence[Estimate]]], fmt: Numbers,
                 alt: str = "") -> Chart:
    """Dot and whisker: mean and 95% CI of each factor (a panel each) for the whole sample and each city."""
    groups = [f"{e.label}, n = {fmt.int(e.n)}" for e in factors[0][1]]
    row, panel, gap = 0.27, 1.5, 0.12
    label_w = min(widest(groups, 7.5, True) + 0.18, MAX_W - len(factors) * (panel + gap))
    groups = [fit_in(g, label_w - 0.18, 7.5, True) for g in groups]
    titles = [wrap_in(t, panel, 8, max_lines=3) for t, _ in factors]
    top = LINE_IN * max(len(t) for t in titles) + 0.15
    width = label_w + len(factors) * (panel + gap)
    height = top + row * len(groups) + 0.3
    finite = [v for _, es in factors for e in es for v in (e.low, e.high, e.mean) if np.isfinite(v)]
    lo, hi = (min(finite), max(finite)) if finite else (1.0, 5.0)
    pad = max((hi - lo) * 0.08, 0.05)
    lo, hi = max(1.0, lo - pad), min(5.0, hi + pad)
    step = 0.5 if hi - lo > 1.2 else 0.25 if hi - lo > 0.5 else 0.1
    ticks = [t for t in np.arange(1.0, 5.01, step) if lo <= t <= hi]
    decimals = 2 if step == 0.25 else 1
    bottom = top + row * len(groups)

    def draw(box: Box) -> None:
        ax = box.canvas()
        _stripes(ax, 0, width, top, row, len(groups))
        y = top + (np.arange(len(groups)) + 0.5) * row
        for yi, label, e in zip(y, groups, factors[0][1]):
            ax.text(label_w - 0.08, yi, label, ha="right", va="center", fontsize=7.5, color=INK,
                    fontweight="bold" if e.overall else "normal")
        for k, ((_, es), title) in enumerate(zip(factors, titles)):
            x0 = label_w + k * (panel + gap)

            def at(v):
                return x0 + (v - lo) / (hi - lo) * panel

            for t in ticks:
                ax.plot([at(t), at(t)], [top, bottom], color=MUTED if t == 3 else GRID, linewidth=0.5,
                        linestyle=":" if t == 3 else "-")
                ax.text(at(t), bottom + 0.05, fmt.num(t, decimals), ha="center", va="top", fontsize=7, color=MUTED)
            ax.plot([x0, x0 + panel], [bottom, bottom], color=MUTED, linewidth=0.6)
            for yi, e in zip(y, es):
                color = OVERALL if e.overall else CITY
                if np.isfinite(e.low):
                    ax.plot([at(e.low), at(e.high)], [yi, yi], color=color, linewidth=1.5, solid_capstyle="butt")
                if np.isfinite(e.mean):
                    ax.plot([at(e.mean)], [yi], "o", color=color, markersize=4.6 if e.overall else 3.8)
            ax.text(x0 + panel / 2, top - 0.06, "\n".join(title), ha="center", va="bottom", fontsize=8, color=INK,
                    linespacing=1.1)

    return Chart(cid, width, height, draw, None, alt)


def dates_chart(cid: str, labels: Sequence[str], counts: Sequence[int], fmt: Numbers, alt: str = "") -> Chart:
    """Completed responses per day, week or month."""
    width, height = 9.5, 2.3
    every = max(1, int(np.ceil(len(labels) / 16)))

    def draw(box: Box) -> None:
        ax = box.axes(0.55, 0.5, width - 0.7, height - 0.6)
        x = np.arange(len(labels))
        ax.bar(x, counts, color=OVERALL, width=0.75)
        slanted = len(labels) > 8
        ax.set_xticks(x[::every], list(labels[::every]), rotation=30 if slanted else 0,
                      ha="right" if slanted else "center", fontsize=7)
        ax.grid(axis="y", color=GRID, linewidth=0.5)
        ax.set_axisbelow(True)
        ax.yaxis.set_major_locator(MaxNLocator(nbins=5, integer=True))
        ax.yaxis.set_major_formatter(lambda v, _: fmt.int(int(v)))
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)

    return Chart(cid, width, height, draw, None, alt)


def scree_chart(cid: str, here: np.ndarray, published: Sequence[float], labels: tuple[str, str, str, str, str],
                fmt: Numbers, alt: str = "") -> Chart:
    """Eigenvalues by rank, this data against the source's, with the eigenvalue-1 line."""
    here_label, source_label, kaiser, xlabel, ylabel = labels
    width, height = 6.6, 3.0

    def draw(box: Box) -> None:
        ax = box.axes(0.6, 0.5, width - 0.8, height - 0.65)
        ranks = np.arange(1, len(here) + 1)
        ax.plot(ranks, here, "o-", color=OVERALL, markersize=4, linewidth=1.2, label=here_label)
        if len(published):
            ax.plot(np.arange(1, len(published) + 1), published, "s--", color="#c55a11", markersize=4,
                    linewidth=1.0, label=source_label)
        ax.axhline(1.0, color=MUTED, linewidth=0.7, linestyle=":", label=kaiser)
        ax.set_xticks(ranks)
        ax.yaxis.set_major_formatter(lambda v, _: fmt.num(v, 1))
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.grid(axis="y", color=GRID, linewidth=0.5)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        ax.legend(frameon=False, fontsize=7.5)

    return Chart(cid, width, height, draw, None, alt)

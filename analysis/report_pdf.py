"""The PDF report's pages: paragraphs and tables laid out line by line, charts placed as regions of a page,
page breaks where a block would not fit, and table headers repeated on the next page (matplotlib, Agg)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from analysis.report_charts import INK, MARGIN, MAX_W, MUTED, OVERALL, PAGE, Box, Chart, fit_in, text_in, wrap_in

@dataclass
class Line:
    """One laid-out line of a PDF text page: plain text, or a table row (cells with alignments)."""
    text: str | Sequence[str]
    size: float = 8.5
    bold: bool = False
    color: str = INK
    space_before: float = 0.0
    columns: Sequence[float] = ()  # table: where each cell is anchored (inches from the margin)
    aligns: Sequence[str] = ()
    rule: float = 0.0  # the width of a hairline under the row (table header)
    header: bool = False  # a table's header row, repeated on the next page when the table is split
    keep: bool = False  # a heading: kept on one page with what follows

    @property
    def height(self) -> float:
        return self.space_before + self.size / 72 * 1.45


def paragraph(text: str, size: float = 8.5, bold: bool = False, color: str = INK, space_before: float = 0.0,
              keep: bool = False, width: float = PAGE[0] - 2 * MARGIN) -> list[Line]:
    lines = wrap_in(text, width, size, bold)
    return [Line(s, size, bold, color, space_before if i == 0 else 0.0, keep=keep) for i, s in enumerate(lines)]


def table_lines(header: Sequence[str], rows: Sequence[Sequence[str]], aligns: Sequence[str],
                groups: Sequence[tuple[str, int]] = (), width: float = PAGE[0] - 2 * MARGIN,
                size: float = 7.5) -> list[Line]:
    """A table as lines: columns as wide as their longest cell; the widest column is cut when it does not fit."""
    pad = 0.18
    need = [max([text_in(header[j], size, True)] + [text_in(r[j], size) for r in rows]) + pad
            for j in range(len(header))]
    if sum(need) > width:  # the widest column is the text one: numbers stay whole
        j = int(np.argmax(need))
        need[j] = max(0.8, need[j] - (sum(need) - width))
    lefts = np.concatenate([[0.0], np.cumsum(need)[:-1]])
    anchors = [x + (w - pad if a == "right" else (w - pad) / 2 if a == "center" else 0)
               for x, w, a in zip(lefts, need, aligns)]

    def cut(cells, bold=False):
        return [fit_in(c, w - pad, size, bold) for c, w in zip(cells, need)]

    out = []
    if groups:
        starts = np.cumsum([0] + [span for _, span in groups])
        centers = [(lefts[a] + lefts[b - 1] + need[b - 1] - pad) / 2 for a, b in zip(starts[:-1], starts[1:])]
        out.append(Line([g for g, _ in groups], size, True, OVERALL, 0.06, centers, ["center"] * len(groups),
                        header=True))
    out.append(Line(cut(header, True), size, True, INK, 0.0 if groups else 0.06, anchors, aligns, rule=sum(need),
                    header=True))
    out += [Line(cut(r), size, False, INK, 0.0, anchors, aligns) for r in rows]
    return out


def draw_line(fig: Figure, line: Line, y_top: float) -> None:
    fw, fh = fig.get_size_inches()
    y = (y_top - line.space_before - line.size / 72 * 1.1) / fh
    weight = "bold" if line.bold else "normal"
    if line.columns:
        for x, cell, align in zip(line.columns, line.text, line.aligns):
            fig.text((MARGIN + x) / fw, y, cell, ha=align, fontsize=line.size, fontweight=weight, color=line.color)
        if line.rule:
            y_rule = (y_top - line.height - 0.01) / fh
            fig.add_artist(Line2D([MARGIN / fw, (MARGIN + line.rule) / fw], [y_rule, y_rule], color=MUTED,
                                  linewidth=0.5))
    else:
        fig.text(MARGIN / fw, y, line.text, fontsize=line.size, fontweight=weight, color=line.color)


def write_pdf(path, blocks: Sequence[list[Line] | Chart | None], metadata: dict) -> int:
    """Flows text lines and charts down A4 landscape pages (None: a page break); returns the number of pages.

    A heading stays with what follows it, a chart with the note under it, and a table split over two pages
    repeats its header."""
    from matplotlib.backends.backend_pdf import PdfPages

    top, pages = PAGE[1] - MARGIN, 0

    def size(block: Chart) -> tuple[float, float, float]:
        scale = min(1.0, MAX_W / block.width, (PAGE[1] - 2 * MARGIN) / block.height)
        return scale, block.width * scale, block.height * scale

    def lead(start: int) -> float:
        """The height from blocks[start] on that must share a page with a heading before it: the text up
        to the next chart or table, and that chart or the table's first rows."""
        total = 0.0
        for block in blocks[start:]:
            if block is None:
                break
            if isinstance(block, Chart):
                return total + size(block)[2]
            if block and (block[0].columns or block[0].keep):
                return total + sum(line.height for line in block[:3])
            total += sum(line.height for line in block)
        return total

    with PdfPages(path, metadata=metadata) as pdf:
        fig, y = None, 0.0

        def new_page():
            nonlocal fig, y, pages
            if fig is not None:
                pdf.savefig(fig)
            fig, y = Figure(figsize=PAGE), top
            pages += 1

        new_page()
        for i, block in enumerate(blocks):
            following = blocks[i + 1] if i + 1 < len(blocks) else None
            note = isinstance(following, list) and following and not following[0].columns and not following[0].keep
            if block is None:  # a page break, unless the page is still empty
                if y < top:
                    new_page()
                continue
            if isinstance(block, Chart):
                scale, w, h = size(block)
                if y - h - (sum(line.height for line in following[:1]) if note else 0) < MARGIN and y < top:
                    new_page()
                if scale < 1.0:
                    # a chart too big for the page is drawn on its own figure and placed as an image
                    sub = Figure(figsize=(block.width, block.height), dpi=150)
                    block.draw(Box(sub, 0, 0, block.width, block.height))
                    _place_image(fig, sub, MARGIN, y - h, w, h)
                else:
                    block.draw(Box(fig, MARGIN, y - h, w, h))
                y -= h + 0.08
                continue
            if block and block[0].keep:
                if y - sum(line.height for line in block) - lead(i + 1) < MARGIN and y < top:
                    new_page()
            header = [line for line in block if line.header]
            for line in block:
                if y - line.height < MARGIN:
                    new_page()
                    if not line.header:
                        for h_line in header:
                            draw_line(fig, h_line, y)
                            y -= h_line.height
                draw_line(fig, line, y)
                y -= line.height
        pdf.savefig(fig)
    return pages


def _place_image(fig: Figure, sub: Figure, x: float, y: float, w: float, h: float) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(sub)
    canvas.draw()
    image = np.asarray(canvas.buffer_rgba())
    fw, fh = fig.get_size_inches()
    ax = fig.add_axes((x / fw, y / fh, w / fw, h / fh))
    ax.imshow(image, interpolation="antialiased")
    ax.set_axis_off()

"""The report as a sequence of blocks (headings, paragraphs, charts, tables, page breaks) and its two renderings:
a self-contained HTML page (charts inlined as PNG) and a PDF laid out by analysis.report_pdf."""
from __future__ import annotations

import html
from dataclasses import dataclass, field
from pathlib import Path

from analysis.report_charts import DPI, Chart, png_base64
from analysis.report_pdf import paragraph, table_lines, write_pdf


@dataclass
class Heading:
    level: int
    text: str
    anchor: str = ""
    prefix: str = ""  # a question id shown before the text


@dataclass
class Para:
    text: str
    cls: str = ""
    attrs: dict = field(default_factory=dict)


@dataclass
class Cell:
    text: str
    attrs: dict = field(default_factory=dict)


@dataclass
class Table:
    header: list[str]
    rows: list[list[str | Cell]]
    aligns: list[str]
    groups: list[tuple[str, int]] = field(default_factory=list)  # an upper header row: (label, columns spanned)
    anchor: str = ""


class PageBreak:
    pass

CSS = """
body{font-family:"DejaVu Sans",Verdana,"Segoe UI",Arial,sans-serif;color:#222;margin:0;background:#f4f5f7;
line-height:1.45}
main{max-width:1120px;margin:0 auto;padding:24px 32px 48px;background:#fff}
h1{font-size:26px;margin:8px 0 4px;color:#1f4e79}h2{font-size:20px;margin:40px 0 8px;padding-top:8px;
border-top:2px solid #1f4e79;color:#1f4e79}h3{font-size:15px;margin:26px 0 6px;font-weight:600}
.qid{display:inline-block;min-width:2.6em;margin-right:.5em;padding:0 .35em;border-radius:3px;background:#e8eef5;
color:#1f4e79;font-size:13px;text-align:center}
p{margin:6px 0}.meta{color:#555;margin:2px 0}.intro{max-width:900px}.note,.base{color:#555;font-size:13px}
.base{margin-top:0}.prompt{font-style:italic}#table-loadings td:first-child{max-width:380px}
.skipped{padding:10px 14px;background:#fff8e5;border-left:4px solid #e0a800}
nav ol{columns:2;font-size:14px}a{color:#1f4e79}
figure{margin:6px 0}figure img{max-width:100%;height:auto}
table{border-collapse:collapse;font-size:13px;margin:8px 0 4px}th,td{padding:3px 9px;border-bottom:1px solid #e3e3e3}
th{background:#f0f3f7;text-align:left;font-weight:600}
td.right,th.right{text-align:right;font-variant-numeric:tabular-nums}
td.center{text-align:center}tr.group th{background:#fff;text-align:center;border-bottom:none}.total{font-weight:600}
@media print{body{background:#fff}main{padding:0}h2{break-before:page}figure,table{break-inside:avoid}}
"""


def _attrs(attrs: dict) -> str:
    return "".join(f' {k}="{html.escape(str(v))}"' for k, v in attrs.items())


def _table_html(table: Table) -> str:
    e, rows = html.escape, []
    if table.groups:
        rows.append('<tr class="group">' + "".join(f'<th colspan="{span}">{e(label)}</th>'
                                                   for label, span in table.groups) + "</tr>")
    rows.append("<tr>" + "".join(f'<th class="{a}">{e(h)}</th>' for h, a in zip(table.header, table.aligns)) + "</tr>")
    for row in table.rows:
        cells = []
        for cell, align in zip(row, table.aligns):
            cell = cell if isinstance(cell, Cell) else Cell(cell)
            attrs = {"class": " ".join(filter(None, [align, cell.attrs.get("class", "")]))}
            attrs |= {k: v for k, v in cell.attrs.items() if k != "class"}
            cells.append(f"<td{_attrs(attrs)}>{e(cell.text)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table{_attrs({'id': table.anchor} if table.anchor else {})}>" + "".join(rows) + "</table>"


def html_document(report) -> str:
    e, parts = html.escape, []
    for bl in report.blocks:
        if isinstance(bl, Heading):
            tag = f"h{bl.level}"
            prefix = f'<span class="qid">{e(bl.prefix)}</span>' if bl.prefix else ""
            parts.append(f"<{tag}{_attrs({'id': bl.anchor} if bl.anchor else {})}>{prefix}{e(bl.text)}</{tag}>")
            if bl.level == 1:
                toc = [h for h in report.blocks if isinstance(h, Heading) and h.level == 2]
                parts.append("<nav><ol>" + "".join(f'<li><a href="#{e(h.anchor)}">{e(h.text)}</a></li>'
                                                   for h in toc) + "</ol></nav>")
        elif isinstance(bl, Para):
            parts.append(f"<p{_attrs(({'class': bl.cls} if bl.cls else {}) | bl.attrs)}>{e(bl.text)}</p>")
        elif isinstance(bl, Chart):
            attrs = {"class": "chart", "id": bl.id} | ({"data-question": bl.question} if bl.question else {})
            image = {"alt": bl.alt, "width": round(bl.width * DPI), "height": round(bl.height * DPI)}
            parts.append(f'<figure{_attrs(attrs)}><img{_attrs(image)} '
                         f'src="data:image/png;base64,{png_base64(bl)}"></figure>')
        elif isinstance(bl, Table):
            parts.append(_table_html(bl))
    return (f'<!DOCTYPE html>\n<html lang="{e(report.language)}">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n<title>{e(report.title)}</title>\n'
            f"<style>{CSS}</style>\n</head>\n<body>\n<main>\n" + "\n".join(parts) + "\n</main>\n</body>\n</html>\n")


def pdf_document(report, out: Path) -> int:
    flow: list = []
    for bl in report.blocks:
        if isinstance(bl, PageBreak):
            flow.append(None)
        elif isinstance(bl, Heading):
            size = {1: 16, 2: 13, 3: 9.5}[bl.level]
            text = f"{bl.prefix} — {bl.text}" if bl.prefix else bl.text
            flow.append(paragraph(text, size, True, "#1f4e79" if bl.level < 3 else "#222222",
                                  space_before={1: 0, 2: 0.1, 3: 0.12}[bl.level], keep=True))
        elif isinstance(bl, Para):
            flow.append(paragraph(bl.text, 8.5 if bl.cls not in ("note", "base") else 7.5,
                                  color="#222222" if bl.cls not in ("note", "base") else "#555555"))
        elif isinstance(bl, Chart):
            flow.append(bl)
        elif isinstance(bl, Table):
            cells = [[c.text if isinstance(c, Cell) else c for c in row] for row in bl.rows]
            flow.append(table_lines(bl.header, cells, bl.aligns, bl.groups))
    metadata = {"Title": report.title, "Creator": "Pikir", "Producer": "Pikir"}
    return write_pdf(out, flow, metadata)

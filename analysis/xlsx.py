"""A streaming XLSX writer for large exports: a batch of rows becomes sheet XML in a few Arrow calls.

openpyxl (and XlsxWriter) build every cell in Python, a few microseconds each: 100,000 responses × 62 columns
took three minutes. Here each column of a batch is turned into cell XML with Arrow's string kernels, the cells
of a row are joined the same way, and the result goes into the zip as one buffer. The file holds what a
spreadsheet needs and nothing more: inline strings, numbers, and one date-time number format.
"""
from __future__ import annotations

import zipfile
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PACKAGE_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
EXCEL_EPOCH = np.datetime64("1899-12-30T00:00:00", "us")  # day 0 of Excel's 1900 date system (with its leap bug)
DATETIME_STYLE = 1  # index in cellXfs below: numFmt 164, a full date and time
# XML 1.0 forbids these control characters even escaped; a chat text could carry one, and Excel would refuse
# the whole file, so they are dropped.
ILLEGAL = "[\x00-\x08\x0b\x0c\x0e-\x1f]"


def _s(text: str) -> pa.Scalar:
    return pa.scalar(text, pa.large_string())  # the cells are large strings: a batch's XML passes 2 GB at ~10M rows


def column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _text(values: pa.Array) -> pa.Array:
    values = pc.replace_substring_regex(values.cast(pa.large_string()), ILLEGAL, "")
    for char, entity in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;")):
        values = pc.replace_substring(values, char, entity)
    return values


def _cells(column: pd.Series, letter: str, rows: pa.Array) -> pa.Array:
    """One cell element per row (an empty string where the value is missing, so the cell is left out)."""
    if isinstance(column.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(column.dtype):
        naive = column.dt.tz_convert("UTC").dt.tz_localize(None) if isinstance(column.dtype, pd.DatetimeTZDtype) \
            else column
        micros = (naive.to_numpy(dtype="datetime64[us]") - EXCEL_EPOCH).astype(np.int64)
        # whole days + (seconds + microseconds / 10**6) / 86400, the float operations of openpyxl's to_excel,
        # so a timestamp gets the very number openpyxl wrote before
        days, rest = np.divmod(micros, 86_400_000_000)
        seconds, fraction = np.divmod(rest, 1_000_000)
        days = pa.array(days + (seconds + fraction / 10**6) / 86_400, mask=naive.isna().to_numpy())
        head, value, tail = f' s="{DATETIME_STYLE}"><v>', days.cast(pa.large_string()), "</v></c>"
    elif pd.api.types.is_numeric_dtype(column.dtype) and not pd.api.types.is_bool_dtype(column.dtype):
        head, value, tail = "><v>", pa.Array.from_pandas(column).cast(pa.large_string()), "</v></c>"
    else:
        strings = pa.Array.from_pandas(column.astype("str"))
        head, value, tail = ' t="inlineStr"><is><t xml:space="preserve">', _text(strings), "</t></is></c>"
    cell = pc.binary_join_element_wise(_s(f'<c r="{letter}'), rows, _s('"' + head), value, _s(tail), _s(""))
    return pc.fill_null(cell, "")


class Sheet:
    def __init__(self, stream, name: str):
        self.stream, self.name, self.rows = stream, name, 0
        stream.write(f'{XML}<worksheet xmlns="{MAIN}"><sheetData>'.encode())

    def append_frame(self, frame: pd.DataFrame) -> None:
        """Every row of `frame`, in its column order (the column names are not written)."""
        if frame.empty:
            return
        numbers = pa.array(np.arange(self.rows + 1, self.rows + len(frame) + 1)).cast(pa.large_string())
        cells = [_cells(frame.iloc[:, j], column_letter(j), numbers) for j in range(frame.shape[1])]
        rows = pc.binary_join_element_wise(_s('<row r="'), numbers, _s('">'), *cells, _s("</row>"), _s(""))
        # The rows are contiguous in the array's data buffer: write that buffer, not a Python string per row.
        offsets = np.frombuffer(rows.buffers()[1], dtype=np.int64, count=len(rows) + 1, offset=rows.offset * 8)
        self.stream.write(memoryview(rows.buffers()[2])[offsets[0]:offsets[-1]])
        self.rows += len(frame)

    def append(self, values: list) -> None:
        """One row of Python values (str, int, float, datetime, None)."""
        self.append_frame(pd.DataFrame([[_py(v) for v in values]], dtype=object).apply(_typed))

    def close(self) -> None:
        self.stream.write(b"</sheetData></worksheet>")
        self.stream.close()


def _py(value):
    return pd.Timestamp(value) if isinstance(value, datetime) else value


def _typed(column: pd.Series) -> pd.Series:
    value = column.iloc[0]
    if value is None or isinstance(value, str):
        return column.astype("str")
    if isinstance(value, pd.Timestamp):
        return column.astype("datetime64[us]" if value.tzinfo is None else "datetime64[us, UTC]")
    return column.astype("float64" if isinstance(value, float) else "int64")


class Workbook:
    """`with Workbook(path) as book: sheet = book.sheet("data"); …; sheet.close()`: one sheet open at a time,
    as zip entries are written one after another."""

    def __init__(self, path: str | Path):
        # Level 1 compresses the repetitive sheet XML almost as well as the default level, several times faster.
        self.zip = zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1)
        self.names: list[str] = []
        self.stream = None

    def sheet(self, name: str) -> Sheet:
        self.names.append(name)
        self.stream = self.zip.open(f"xl/worksheets/sheet{len(self.names)}.xml", "w", force_zip64=True)
        return Sheet(self.stream, name)

    def __enter__(self) -> "Workbook":
        return self

    def __exit__(self, *exc) -> None:
        if self.stream is not None:
            self.stream.close()  # a no-op when the sheet was closed; else the zip could not be closed
        if exc[0] is None:
            self._finish()
        self.zip.close()

    def _finish(self) -> None:
        count = len(self.names)
        sheets = "".join(f'<sheet name="{_escape(n)}" sheetId="{i}" r:id="rId{i}"/>'
                         for i, n in enumerate(self.names, 1))
        parts = {
            "[Content_Types].xml": (
                '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
                '<Default Extension="xml" ContentType="application/xml"/>'
                '<Override PartName="/xl/workbook.xml" ContentType="application/'
                'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
                '<Override PartName="/xl/styles.xml" ContentType="application/'
                'vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
                + "".join(f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="application/'
                          'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
                          for i in range(1, count + 1))
                + "</Types>"),
            "_rels/.rels": (
                f'<Relationships xmlns="{PACKAGE_RELS}"><Relationship Id="rId1" '
                f'Type="{RELS}/officeDocument" Target="xl/workbook.xml"/></Relationships>'),
            "xl/workbook.xml": f'<workbook xmlns="{MAIN}" xmlns:r="{RELS}"><sheets>{sheets}</sheets></workbook>',
            "xl/_rels/workbook.xml.rels": (
                f'<Relationships xmlns="{PACKAGE_RELS}">'
                + "".join(f'<Relationship Id="rId{i}" Type="{RELS}/worksheet" Target="worksheets/sheet{i}.xml"/>'
                          for i in range(1, count + 1))
                + f'<Relationship Id="rId{count + 1}" Type="{RELS}/styles" Target="styles.xml"/></Relationships>'),
            "xl/styles.xml": (
                f'<styleSheet xmlns="{MAIN}">'
                '<numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy-mm-dd h:mm:ss"/></numFmts>'
                '<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
                '<fills count="2"><fill><patternFill patternType="none"/></fill>'
                '<fill><patternFill patternType="gray125"/></fill></fills>'
                '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
                '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
                '<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
                '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>'
                '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
                "</styleSheet>"),
        }
        for name, body in parts.items():
            self.zip.writestr(name, XML + body)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")

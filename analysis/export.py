"""Completed responses as files researchers open directly: CSV, XLSX, SPSS .sav and Parquet.

Every format has the columns of `analysis.responses.columns(survey)` plus the factor scores F1..F5, labelled by
`analysis.labels`. A cell the branching never asked (q2–s21 and the scores after q1 = 4) is empty in CSV, XLSX
and Parquet; the .sav codes it -1, labelled "not asked" and declared user-missing, so SPSS shows why it is empty.
CSV, XLSX and Parquet are written batch by batch (constant memory); .sav needs the whole frame (see export_sav).
"""
from __future__ import annotations

import asyncio
import json
from dataclasses import asdict, dataclass
from datetime import date, datetime
from pathlib import Path
from typing import AsyncIterator

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import pyreadstat
from sqlalchemy.ext.asyncio import AsyncEngine

from analysis import codebook, xlsx
from analysis.factor_key import FactorKey
from analysis.labels import NOT_ASKED, NOT_ASKED_LABEL, Variable, dictionary, scoring_key
from analysis.responses import frames
from analysis.scores import factor_scores
from handlers.i18n import gettext_for
from handlers.survey.definition import Survey

# RFC 4180 as the csv module writes it (CRLF), strings quoted, NULL as an empty cell.
CSV_OPTIONS = pa_csv.WriteOptions(quoting_style="needed", quoting_header="none", eol="\r\n")
# Limits of the .sav format (SPSS counts bytes, and Cyrillic takes two per letter).
SAV_VARIABLE_LABEL_BYTES = 255
SAV_VALUE_LABEL_BYTES = 120


@dataclass(frozen=True)
class Selection:
    """Which completed responses to export; every filter is applied in SQL."""

    since: date | datetime | None = None
    version: int | None = None
    cities: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()


async def scored_batches(
    engine: AsyncEngine, survey: Survey, key: FactorKey, selection: Selection
) -> AsyncIterator[pd.DataFrame]:
    """The frames of `responses.frames` (every export column), with the factor scores added (NaN where empty)."""
    async for frame in frames(engine, survey, **asdict(selection)):
        yield pd.concat([frame, factor_scores(frame, key)], axis=1) if key.ids else frame


def _iso_utc(column: pd.Series) -> pd.Series:
    """ISO 8601 in UTC to the second, as datetime.isoformat(timespec="seconds") wrote it, vectorised."""
    seconds = column.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy(dtype="datetime64[s]")
    text = pd.Series(np.datetime_as_string(seconds, unit="s"), index=column.index, dtype=object) + "+00:00"
    return text.where(column.notna(), None)


def write_csv(frame: pd.DataFrame, out: Path | str) -> None:
    """A frame as export_csv writes its batches (Arrow's writer: pandas' took seconds for 100,000 rows)."""
    pa_csv.write_csv(pa.Table.from_pandas(frame, preserve_index=False), str(out), write_options=CSV_OPTIONS)


async def export_csv(engine, survey, out: Path, *, selection=Selection(), labels="ru", key=None) -> int:
    """UTF-8 CSV (RFC 4180: CRLF, quotes where needed), one row per completed response, empty cells for questions
    not asked. Returns the row count. Timestamps are ISO 8601 in UTC; the labels live in the codebook
    (`python -m analysis codebook`)."""
    key = scoring_key(survey, key)
    variables = dictionary(survey, key, labels)
    names = [v.name for v in variables]
    schema = pa.schema([(v.name, pa.string() if v.type in ("string", "datetime") else _arrow_type(v))
                        for v in variables])
    count = 0
    with pa_csv.CSVWriter(str(out), schema, write_options=CSV_OPTIONS) as writer:
        async for batch in scored_batches(engine, survey, key, selection):
            batch = batch[names].copy()
            for name in ("started_at", "completed_at"):
                batch[name] = _iso_utc(batch[name])
            table = pa.Table.from_pandas(batch, schema=schema, preserve_index=False)
            await asyncio.to_thread(writer.write_table, table)  # the next batch is read meanwhile
            count += len(batch)
    return count


async def export_xlsx(engine, survey, out: Path, *, selection=Selection(), labels="ru", key=None) -> int:
    """A `data` sheet (names in row 1, empty cells for questions not asked) and a `codebook` sheet, streamed to
    disk a batch at a time (analysis/xlsx.py). Timestamps are UTC, without a zone (Excel has none)."""
    key = scoring_key(survey, key)
    variables = dictionary(survey, key, labels)
    names = [v.name for v in variables]
    count = 0
    with xlsx.Workbook(out) as book:
        data = book.sheet("data")
        data.append(names)
        async for batch in scored_batches(engine, survey, key, selection):
            await asyncio.to_thread(data.append_frame, batch[names])  # the next batch is read meanwhile
            count += len(batch)
        data.close()
        sheet = book.sheet("codebook")
        sheet.append(list(codebook.FIELDS))
        for entry in codebook.rows(variables, labels):
            sheet.append([entry[f] for f in codebook.FIELDS])
        sheet.close()
    return count


def _arrow_type(variable: Variable) -> pa.DataType:
    if variable.type == "integer":
        return pa.int8() if _fits_int8(variable) else pa.int32()
    return {"string": pa.string(), "float": pa.float64(), "datetime": pa.timestamp("us", tz="UTC")}[variable.type]


def _fits_int8(variable: Variable) -> bool:
    """Coded answers fit a byte (codes 0..99 and -1); a count such as survey_version gets 32 bits."""
    return bool(variable.values) and all(-128 <= int(code) <= 127 for code in variable.values)


def _metadata(survey: Survey, variables: list[Variable], labels: str) -> dict:
    return {
        "survey": survey.id, "labels_language": labels, "not_asked": "null; each column's `missing` says when",
        "columns": {
            v.name: {"label": v.label, "type": v.type, "measure": v.measure,
                     "values": {str(code): text for code, text in v.values.items()},
                     "missing": codebook.missing_note(v, labels), "notes": v.note}
            for v in variables
        },
    }


async def export_parquet(engine, survey, out: Path, *, selection=Selection(), labels="ru", key=None) -> int:
    """Parquet written a batch at a time (one row group per batch). The labels travel in the schema metadata:
    key `pikir` holds JSON with every column's label, type, measure and value labels; each field also carries
    its own `label`."""
    key = scoring_key(survey, key)
    variables = dictionary(survey, key, labels)
    schema = pa.schema(
        [pa.field(v.name, _arrow_type(v), metadata={"label": v.label}) for v in variables],
        metadata={"pikir": json.dumps(_metadata(survey, variables, labels), ensure_ascii=False)},
    )
    count = 0
    with pq.ParquetWriter(out, schema) as writer:
        async for batch in scored_batches(engine, survey, key, selection):
            # Int16 codes narrow to the schema's int8 (checked: a code that did not fit would raise).
            table = pa.Table.from_pandas(batch[schema.names], preserve_index=False).cast(schema)
            await asyncio.to_thread(writer.write_table, table)  # the next batch is read meanwhile
            count += len(batch)
    return count


def fit(text: str, limit: int) -> str:
    """`text` within `limit` UTF-8 bytes: whole if it fits, else cut after a word (or a letter, for a very long
    word) and ended with "…". The full texts are in the codebook."""
    if len(text.encode()) <= limit:
        return text
    cut = text.encode()[: limit - len("…".encode())].decode("utf-8", "ignore")
    words = cut.rsplit(" ", 1)[0]
    return (words if len(cut) - len(words) < 20 else cut).rstrip(" ,;:—") + "…"


def sav_label(variable: Variable) -> str:
    """The variable label within SPSS's limit. For a multi-select option or an "other" text the question is
    shortened first, so q2_1 … q2_8 keep their distinguishing option text."""
    label, tail = variable.label, variable.tail
    head_room = SAV_VARIABLE_LABEL_BYTES - len(tail.encode())
    if not tail or len(label.encode()) <= SAV_VARIABLE_LABEL_BYTES or head_room < 60:
        return fit(label, SAV_VARIABLE_LABEL_BYTES)
    return fit(label[: -len(tail)], head_room) + tail


def _sav_column(variable: Variable, batch: pd.DataFrame) -> pd.Series:
    values = batch[variable.name] if len(batch) else pd.Series([], dtype=object)
    if variable.type == "integer":
        column = values.astype("Int8" if _fits_int8(variable) else "Int32")
    elif variable.type == "float":
        column = values.astype("float64")  # scores keep full precision; float32 would show 3.3333332
    elif variable.type == "datetime":
        column = pd.to_datetime(values, utc=True).dt.tz_localize(None).astype("datetime64[us]")
    else:
        return values.astype("str").fillna("").reset_index(drop=True)  # SPSS strings have no missing value
    if variable.not_asked_code:
        empty = column.isna()
        if variable.derived_from:  # a score was not asked only when none of its statements was
            empty &= batch[list(variable.derived_from)].isna().all(axis=1) if len(batch) else empty
        column = column.mask(empty, NOT_ASKED)
    return column.reset_index(drop=True)


async def export_sav(engine, survey, out: Path, *, selection=Selection(), labels="ru", key=None) -> int:
    """SPSS .sav with variable labels, value labels, measure levels and the not-asked code declared missing.

    pyreadstat writes a whole DataFrame at once, so this is the one format that holds every row in memory.
    Each batch becomes a compact frame right away (nullable Int8 codes: two bytes per cell instead of a Python
    object; Arrow-backed strings; float64 only for the five scores, whose means float32 would blur) and the
    frames are joined once at the end: about 220 bytes per response plus the free texts, so some 220 MB for
    a million responses, twice that for a moment while the batches are joined and handed to polars.

    Labels are cut to SPSS's limits (255 bytes per variable label, 120 per value label) at a word, with "…".
    """
    import polars  # only here: a quarter of a second to import, for the other formats too

    key = scoring_key(survey, key)
    variables = dictionary(survey, key, labels)
    parts, count = [], 0
    async for batch in scored_batches(engine, survey, key, selection):
        parts.append(pd.DataFrame({v.name: _sav_column(v, batch) for v in variables}))
        count += len(batch)
    frame = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(
        {v.name: _sav_column(v, pd.DataFrame()) for v in variables})
    not_asked = fit(gettext_for(labels)(NOT_ASKED_LABEL), SAV_VALUE_LABEL_BYTES)
    value_labels = {}
    for v in variables:
        coded = {code: fit(text, SAV_VALUE_LABEL_BYTES) for code, text in v.values.items()}
        if v.not_asked_code:
            coded[NOT_ASKED] = not_asked
        if coded:
            value_labels[v.name] = coded
    pyreadstat.write_sav(
        # pyreadstat walks the cells in Python; from a polars frame it does so three times faster than from pandas
        polars.from_pandas(frame), out,
        file_label=fit(f"{survey.id} v{survey.version}", 64),
        column_labels={v.name: sav_label(v) for v in variables},
        variable_value_labels=value_labels,
        missing_ranges={v.name: [NOT_ASKED] for v in variables if v.not_asked_code},
        variable_measure={v.name: v.measure for v in variables},
    )
    return count


FORMATS = {"csv": export_csv, "xlsx": export_xlsx, "sav": export_sav, "parquet": export_parquet}

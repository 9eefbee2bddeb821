"""Completed responses as flat rows with stable, documented columns, read in batches so memory stays flat.

The columns come from the survey definition: one per single-choice or scale question, one 0/1 column per
option of a multi-select (`q2_1` … `q2_8`), and `<id>_other` where an option asks for free text. The
respondent pseudonym is never selected: exports cannot contain it, nor any chat id, name or phone.

The answers are read column-wise: per batch, one query for the responses (keyset paging on completed_at, id)
and one for all their answers as a long table (position, question, codes, other), which numpy pivots into the
columns. Building a Python dict per response and per answer cost a minute for 100,000 responses.
"""
from __future__ import annotations

import io
import json
from datetime import date, datetime, time, timezone
from typing import AsyncIterator, Iterable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from handlers.survey.definition import Survey
from storage.models import AnswerRow, ResponseRow

responses, answers = ResponseRow.__table__, AnswerRow.__table__
META = ["response_id", "survey_version", "language", "started_at", "completed_at"]
# Responses per batch: ~30 answers each, so a batch's long table is ~750,000 rows (some 60 MB at its peak);
# larger batches gain little, smaller ones pay the per-query cost more often.
BATCH = 25_000
LONG = ["position", "question", "codes", "other"]


def columns(survey: Survey) -> list[str]:
    out = list(META)
    for q in survey.questions:
        if q.kind == "multi":
            out += [f"{q.id}_{o.code}" for o in q.options]
        else:
            out.append(q.id)
        if any(o.other for o in q.options):
            out.append(f"{q.id}_other")
    return out


def as_utc(moment: date | datetime | None) -> datetime | None:
    """An aware UTC datetime. Naive values are UTC already: SQLite hands back what was stored, without the zone,
    and a bare date on the command line means midnight UTC."""
    if moment is None:
        return None
    if not isinstance(moment, datetime):
        moment = datetime.combine(moment, time())
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def _selection(survey: Survey, since, version, cities, languages):
    base = select(
        responses.c.id, responses.c.survey_version, responses.c.language, responses.c.started_at,
        responses.c.completed_at,
    ).where(responses.c.survey_id == survey.id, responses.c.completed_at.is_not(None))
    if since is not None:
        base = base.where(responses.c.completed_at >= as_utc(since))
    if version is not None:
        base = base.where(responses.c.survey_version == version)
    if languages := list(languages):
        base = base.where(responses.c.language.in_(languages))
    if cities := [str(code) for code in cities]:
        # The city is an answer like any other, so the filter is a semi-join on the answers table.
        base = base.where(responses.c.id.in_(
            select(answers.c.response_id).where(answers.c.question == "city", answers.c.codes.in_(cities))
        ))
    return base


async def frames(
    engine: AsyncEngine, survey: Survey, since: date | datetime | None = None, *, version: int | None = None,
    cities: Iterable[str | int] = (), languages: Iterable[str] = (), batch: int = BATCH,
) -> AsyncIterator[pd.DataFrame]:
    """Completed responses of this survey, oldest first, as DataFrames of at most `batch` rows with the columns
    of `columns`: codes as nullable Int16 (empty where the branching did not ask), free texts as strings,
    timestamps as UTC. Optionally only those completed on or after `since`, of one survey version, from some
    city codes or in some languages."""
    base, cursor = _selection(survey, since, version, cities, languages), None
    async with engine.connect() as connection:
        postgres = connection.dialect.name == "postgresql"
        if postgres:
            # Cost the answers' primary-key lookups as what they are on a server with the data in RAM or on
            # SSD: with the default 4 PostgreSQL hashes the whole answers table for every batch, 4x slower.
            await connection.exec_driver_sql("SET LOCAL random_page_cost = 1.1")
        while True:
            query = base
            if cursor is not None:  # keyset paging: no OFFSET scans, stable under concurrent writes
                at, rid = cursor
                query = query.where(or_(responses.c.completed_at > at,
                                        and_(responses.c.completed_at == at, responses.c.id > rid)))
            meta = (await connection.execute(
                query.order_by(responses.c.completed_at, responses.c.id).limit(batch))).all()
            if not meta:
                return
            ids = [r.id for r in meta]
            long = await (_answers_postgres if postgres else _answers_sqlite)(connection, ids)
            yield pivot(survey, meta, long)
            cursor = (meta[-1].completed_at, meta[-1].id)


async def _answers_postgres(connection: AsyncConnection, ids: list[str]) -> pa.Table:
    """The answers of these responses, `position` being the index in `ids`, through COPY … TO STDOUT: the rows
    arrive as CSV that Arrow parses in C, instead of one Python tuple per answer."""
    raw = (await connection.get_raw_connection()).driver_connection
    chunks: list[bytes] = []

    async def sink(chunk: bytes) -> None:  # a coroutine: a file object would be written from a worker thread
        chunks.append(chunk)

    await raw.copy_from_query(
        "SELECT b.i - 1, a.question, a.codes, a.other FROM unnest($1::varchar[]) WITH ORDINALITY AS b(id, i) "
        "JOIN answers a ON a.response_id = b.id", ids, output=sink, format="csv")
    return _parse_long(b"".join(chunks))


async def _answers_sqlite(connection: AsyncConnection, ids: list[str]) -> pa.Table:
    """The same long table from SQLite, rendered as CSV by SQLite itself (one string per batch instead of a
    Python tuple per answer). The ids go in as one JSON array, json_each giving each its index: no limit on
    the number of bound variables."""
    quoted = lambda column: f"""'"' || replace({column}, '"', '""') || '"'"""  # noqa: E731
    text = (await connection.exec_driver_sql(
        f"SELECT group_concat(j.key || ',' || {quoted('a.question')} || ',' || {quoted('a.codes')} || ',' || "
        f"coalesce({quoted('a.other')}, ''), char(10)) "
        "FROM json_each(?) AS j JOIN answers a ON a.response_id = j.value", (json.dumps(ids),))).scalar()
    return _parse_long((text or "").encode())


def _parse_long(data: bytes) -> pa.Table:
    types = {"position": pa.int32(), "question": pa.string(), "codes": pa.string(), "other": pa.string()}
    if not data:  # Arrow refuses an empty CSV
        return pa.table({name: pa.array([], kind) for name, kind in types.items()})
    # An unquoted empty field is NULL in PostgreSQL's CSV and a quoted one is the empty string: keep them apart.
    return pa_csv.read_csv(
        io.BytesIO(data),
        read_options=pa_csv.ReadOptions(column_names=LONG),
        parse_options=pa_csv.ParseOptions(newlines_in_values=True),
        convert_options=pa_csv.ConvertOptions(
            column_types=types, strings_can_be_null=True, quoted_strings_can_be_null=False),
    )


def _timestamps(values: list) -> pd.Series:
    """UTC datetimes whether the driver gave aware ones (asyncpg) or naive UTC ones (SQLite)."""
    stamps = pd.to_datetime(pd.Series(values, dtype=object), utc=True)
    return stamps.astype("datetime64[us, UTC]")


def pivot(survey: Survey, meta: list, long: pa.Table) -> pd.DataFrame:
    """The responses `meta` (rows of id, version, language, started, completed) with their answers `long` as one
    frame in export columns. A question not asked (skipped by branching) stays empty, never 0; a multi-select
    that was answered gets 0/1 for every option."""
    n = len(meta)
    ids, versions, languages, started, completed = (list(c) for c in zip(*meta)) if n else ([], [], [], [], [])
    out: dict[str, object] = {
        "response_id": pd.array(ids, dtype="str"), "survey_version": np.asarray(versions, dtype=np.int64),
        "language": pd.array(languages, dtype="str"),
        "started_at": _timestamps(started).array, "completed_at": _timestamps(completed).array,
    }
    position = long.column("position").to_numpy()
    questions = long.column("question").combine_chunks().dictionary_encode()
    codes = pc.fill_null(long.column("codes").combine_chunks(), "")
    other = long.column("other").combine_chunks()
    # Group the long rows by question once (a stable sort of small integers), instead of a scan per question;
    # the string work below runs in Arrow's kernels, not a Python call per answer.
    index = questions.indices.to_numpy(zero_copy_only=False)
    order = np.argsort(index, kind="stable")
    bounds = np.searchsorted(index[order], np.arange(len(questions.dictionary) + 1))
    where = {name: order[bounds[k]:bounds[k + 1]] for k, name in enumerate(questions.dictionary.to_pylist())}
    for q in survey.questions:
        rows = where.get(q.id, np.array([], dtype=np.int64))
        at, given = position[rows], codes.take(rows)
        if q.kind == "multi":
            padded = pc.binary_join_element_wise(",", given, ",", "")
            for o in q.options:
                picked = pc.match_substring(padded, f",{o.code},").to_numpy(zero_copy_only=False)
                out[f"{q.id}_{o.code}"] = _scatter(n, at, picked.astype(np.int16))
        else:
            first = pc.replace_substring_regex(given, ",.*", "")  # the first code, as int(codes[0]) took it
            asked = pc.not_equal(first, "").to_numpy(zero_copy_only=False)
            values = pc.cast(first.filter(pa.array(asked)), pa.int16()).to_numpy(zero_copy_only=False)
            out[q.id] = _scatter(n, at[asked], values)
        if any(o.other for o in q.options):
            text = np.full(n, None, dtype=object)
            text[at] = other.take(rows).to_numpy(zero_copy_only=False)
            out[f"{q.id}_other"] = pd.array(text, dtype="str")
    return pd.DataFrame(out, columns=columns(survey))


def _scatter(n: int, at: np.ndarray, values: np.ndarray) -> pd.arrays.IntegerArray:
    data, missing = np.zeros(n, dtype=np.int16), np.ones(n, dtype=bool)
    data[at], missing[at] = values, False
    return pd.arrays.IntegerArray(data, missing)


async def completed(engine: AsyncEngine, survey: Survey, since: date | datetime | None = None,
                    **filters) -> AsyncIterator[dict]:
    """The rows of `frames` one at a time as dicts (None where empty, aware UTC datetimes), for callers that
    want a response at a time."""
    async for frame in frames(engine, survey, since, **filters):
        for record in frame.astype(object).where(frame.notna(), None).to_dict("records"):
            for name in ("started_at", "completed_at"):
                record[name] = record[name].to_pydatetime()
            yield record


async def load_frame(engine: AsyncEngine, survey: Survey, **filters) -> pd.DataFrame:
    """All selected completed responses as one DataFrame (the export columns, nullable integer codes), for the
    analyses that need every row at once: scores, the EFA, the report."""
    parts = [frame async for frame in frames(engine, survey, **filters)]
    if not parts:
        return pivot(survey, [], _parse_long(b""))
    return pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]

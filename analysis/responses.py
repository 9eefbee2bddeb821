"""Completed responses as flat rows with stable, documented columns, read in batches so memory stays flat.

The columns come from the survey definition: one per single-choice or scale question, one 0/1 column per
option of a multi-select (`q2_1` … `q2_8`), and `<id>_other` where an option asks for free text. The
respondent pseudonym is never selected: exports cannot contain it, nor any chat id, name or phone.

The database does the first half of the pivot: per batch, one query returns each response as one JSON document
(its id, version, language, times, and its answers as an object keyed by question), which Arrow parses in C
into one column per question. Fetching the 2.8 million answer rows of 100,000 responses and pivoting them here
took half as long again (4.8 s against 3.1 s on PostgreSQL); a Python dict per answer, a minute.
"""
from __future__ import annotations

import asyncio
import io
import json
from datetime import date, datetime, time, timezone
from typing import AsyncIterator, Iterable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pa_json
from sqlalchemy import Text, and_, cast, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from handlers.survey.definition import Survey
from storage.models import AnswerRow, ResponseRow

responses, answers = ResponseRow.__table__, AnswerRow.__table__
META = ["response_id", "survey_version", "language", "started_at", "completed_at"]
# Responses per batch: each document is some 500 bytes, so a batch is ~12 MB of JSON and its parsed columns;
# larger batches gain little, smaller ones pay the per-query cost more often.
BATCH = 25_000


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


def _selection(survey: Survey, postgres: bool, since, version, cities, languages):
    base = select(_document(postgres)).where(responses.c.survey_id == survey.id, responses.c.completed_at.is_not(None))
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


def _document(postgres: bool):
    """A response as one JSON object: {"id", "v", "l", "s", "c", "x": {"a": {question: codes},
    "o": {question: other text}}}, "o" holding only the answers that have a text. Both engines build it with
    their own JSON functions; the answers come from the primary key's index, one range per response."""
    build, group = (func.json_build_object, func.json_object_agg) if postgres else (func.json_object,
                                                                                    func.json_group_object)
    given = select(build(
        "a", group(answers.c.question, answers.c.codes),
        "o", group(answers.c.question, answers.c.other).filter(answers.c.other.is_not(None)),
    )).where(answers.c.response_id == responses.c.id).scalar_subquery()
    if not postgres:
        given = func.json(given)  # a subquery's result is plain text to SQLite: json() makes it an object again
    document = build("id", responses.c.id, "v", responses.c.survey_version, "l", responses.c.language,
                     "s", responses.c.started_at, "c", responses.c.completed_at, "x", given)
    return cast(document, Text) if postgres else document  # as text: the driver would decode it into dicts


async def frames(
    engine: AsyncEngine, survey: Survey, since: date | datetime | None = None, *, version: int | None = None,
    cities: Iterable[str | int] = (), languages: Iterable[str] = (), batch: int = BATCH,
) -> AsyncIterator[pd.DataFrame]:
    """Completed responses of this survey, oldest first, as DataFrames of at most `batch` rows with the columns
    of `columns`: codes as nullable Int16 (empty where the branching did not ask), free texts as strings,
    timestamps as UTC. Optionally only those completed on or after `since`, of one survey version, from some
    city codes or in some languages.

    While a batch is pivoted (in a worker thread) and handed to the caller, the database already works on the
    next one: the two run on different cores."""
    schema = _document_schema(survey)
    async with engine.connect() as connection:
        postgres = connection.dialect.name == "postgresql"
        if postgres:
            # The per-response subquery makes the plan look expensive enough for JIT, whose compiling costs
            # more than it saves here (0.3 s a batch).
            await connection.exec_driver_sql("SET LOCAL jit = off")
        base = _selection(survey, postgres, since, version, cities, languages)
        pending = asyncio.ensure_future(_fetch(connection, base, None, batch))
        try:
            while documents := await pending:
                pending = asyncio.ensure_future(_fetch(connection, base, _cursor(documents[-1]), batch))
                yield await asyncio.to_thread(lambda: pivot(survey, _parse(documents, schema)))
        finally:
            if not pending.done():
                pending.cancel()
            await asyncio.gather(pending, return_exceptions=True)


async def _fetch(connection: AsyncConnection, base, cursor: tuple | None, batch: int) -> list[str]:
    """The JSON documents of the next batch after `cursor` (keyset paging: no OFFSET scans, stable under
    concurrent writes)."""
    query = base
    if cursor is not None:
        at, rid = cursor
        query = query.where(or_(responses.c.completed_at > at,
                                and_(responses.c.completed_at == at, responses.c.id > rid)))
    result = await connection.execute(query.order_by(responses.c.completed_at, responses.c.id).limit(batch))
    return result.scalars().all()


def _cursor(document: str) -> tuple[datetime, str]:
    """Where the next batch starts: the last document's completion time and id, as the database stored them
    (PostgreSQL writes the offset; SQLite's naive text is UTC and binds back to the same text)."""
    last = json.loads(document)
    return datetime.fromisoformat(last["c"]), last["id"]


def _document_schema(survey: Survey) -> pa.Schema:
    asked = pa.struct([(q.id, pa.string()) for q in survey.questions])
    other = pa.struct([(q.id, pa.string()) for q in survey.questions if any(o.other for o in q.options)])
    stamp = pa.timestamp("us", tz="UTC")  # PostgreSQL writes an offset; SQLite's naive text is UTC already
    return pa.schema([("id", pa.string()), ("v", pa.int64()), ("l", pa.string()), ("s", stamp), ("c", stamp),
                      ("x", pa.struct([("a", asked), ("o", other)]))])


def _parse(documents: list[str], schema: pa.Schema) -> pa.Table:
    # Answers to questions the definition no longer has are left out, as the columns are the definition's.
    options = pa_json.ParseOptions(explicit_schema=schema, unexpected_field_behavior="ignore")
    if not documents:  # Arrow refuses an empty input
        return schema.empty_table()
    return pa_json.read_json(io.BytesIO("\n".join(documents).encode()), parse_options=options)


def pivot(survey: Survey, table: pa.Table) -> pd.DataFrame:
    """Responses parsed from their documents as one frame in export columns. A question not asked (skipped by
    branching) stays empty, never 0; a multi-select that was answered gets 0/1 for every option."""
    given = table.column("x").combine_chunks()
    asked, texts = pc.struct_field(given, "a"), pc.struct_field(given, "o")
    out: dict[str, object] = {
        "response_id": pd.array(table.column("id").to_numpy(zero_copy_only=False), dtype="str"),
        "survey_version": table.column("v").to_numpy(zero_copy_only=False).astype(np.int64),
        "language": pd.array(table.column("l").to_numpy(zero_copy_only=False), dtype="str"),
        "started_at": _timestamps(table.column("s")), "completed_at": _timestamps(table.column("c")),
    }
    for q in survey.questions:
        codes = pc.struct_field(asked, q.id)
        if q.kind == "multi":
            padded = pc.binary_join_element_wise(",", codes, ",", "")
            for o in q.options:
                out[f"{q.id}_{o.code}"] = _codes(pc.match_substring(padded, f",{o.code},"))
        else:
            # The first code (a single choice has one); an empty string is an answer with no code: not asked.
            first = pc.list_element(pc.split_pattern(codes, ",", max_splits=1), 0)
            first = pc.if_else(pc.equal(first, ""), pa.scalar(None, pa.string()), first)
            out[q.id] = _codes(pc.cast(first, pa.int16()))
        if any(o.other for o in q.options):
            text = pc.struct_field(texts, q.id).to_numpy(zero_copy_only=False)
            out[f"{q.id}_other"] = pd.array(text, dtype="str")
    return pd.DataFrame(out, columns=columns(survey))


def _codes(values: pa.Array) -> pd.arrays.IntegerArray:
    """Arrow integers or booleans with nulls as pandas' nullable Int16."""
    missing = values.is_null().to_numpy(zero_copy_only=False)
    data = pc.fill_null(pc.cast(values, pa.int16()), 0).to_numpy(zero_copy_only=False)
    return pd.arrays.IntegerArray(data.astype(np.int16, copy=False), missing)


def _timestamps(column: pa.ChunkedArray) -> pd.arrays.DatetimeArray:
    return pd.Series(column.to_pandas(), copy=False).astype("datetime64[us, UTC]").array


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
        return pivot(survey, _document_schema(survey).empty_table())
    return pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]

"""Completed responses as flat rows with stable, documented columns, read in batches so memory stays flat.

The columns come from the survey definition: one per single-choice or scale question, one 0/1 column per
option of a multi-select (`q2_1` … `q2_8`), and `<id>_other` where an option asks for free text. The
respondent pseudonym is never selected: exports cannot contain it, nor any chat id, name or phone.
"""
from __future__ import annotations

from datetime import date, datetime, time, timezone
from typing import AsyncIterator, Iterable

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncEngine

from handlers.survey.definition import Survey
from storage.models import AnswerRow, ResponseRow

responses, answers = ResponseRow.__table__, AnswerRow.__table__
META = ["response_id", "survey_version", "language", "started_at", "completed_at"]
BATCH = 2000


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


_PLANS: dict[int, tuple[Survey, list]] = {}


def _plan(survey: Survey) -> list[tuple[str, bool, tuple[str, ...], bool]]:
    """Per question: id, is it a multi-select, its option codes, has it an "other" text. Worked out once per
    survey, not once per row: an export of 100,000 rows would otherwise spend most of its time here."""
    cached = _PLANS.get(id(survey))
    if cached is None or cached[0] is not survey:
        plan = [(q.id, q.kind == "multi", tuple(o.code for o in q.options), any(o.other for o in q.options))
                for q in survey.questions]
        cached = _PLANS[id(survey)] = (survey, plan)
    return cached[1]


def flatten(survey: Survey, meta: dict, given: dict[str, tuple[list[str], str | None]]) -> dict:
    """One response as a row. Questions not asked (skipped by branching) stay empty, never 0."""
    row = dict(meta)
    for qid, multi, codes_of_options, has_other in _plan(survey):
        codes, other = given.get(qid, (None, None))
        if multi:
            for code in codes_of_options:
                row[f"{qid}_{code}"] = None if codes is None else int(code in codes)
        else:
            row[qid] = int(codes[0]) if codes else None
        if has_other:
            row[f"{qid}_other"] = other
    return row


def as_utc(moment: date | datetime | None) -> datetime | None:
    """An aware UTC datetime. Naive values are UTC already: SQLite hands back what was stored, without the zone,
    and a bare date on the command line means midnight UTC."""
    if moment is None:
        return None
    if not isinstance(moment, datetime):
        moment = datetime.combine(moment, time())
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


async def completed(
    engine: AsyncEngine, survey: Survey, since: date | datetime | None = None, *, version: int | None = None,
    cities: Iterable[str | int] = (), languages: Iterable[str] = (),
) -> AsyncIterator[dict]:
    """Completed responses of this survey, oldest first, as rows (see `columns`), optionally only those completed
    on or after `since`, of one survey version, from some city codes or in some languages."""
    cursor = None
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
    async with engine.connect() as connection:
        while True:
            query = base
            if cursor is not None:  # keyset paging: no OFFSET scans, stable under concurrent writes
                at, rid = cursor
                query = query.where(or_(responses.c.completed_at > at, and_(responses.c.completed_at == at, responses.c.id > rid)))
            batch = (await connection.execute(query.order_by(responses.c.completed_at, responses.c.id).limit(BATCH))).all()
            if not batch:
                return
            given: dict[str, dict] = {r.id: {} for r in batch}
            rows = (await connection.execute(
                select(answers.c.response_id, answers.c.question, answers.c.codes, answers.c.other).where(
                    answers.c.response_id.in_(list(given))
                )
            )).all()  # the batch in one fetch: row-by-row fetching through the async adapter cost more than the query
            for rid, question, codes, other in rows:
                given[rid][question] = (codes.split(",") if codes else [], other)
            for r in batch:
                times = as_utc(r.started_at), as_utc(r.completed_at)
                meta = dict(zip(META, (r.id, r.survey_version, r.language, *times)))
                yield flatten(survey, meta, given[r.id])
            cursor = (batch[-1].completed_at, batch[-1].id)


async def load_frame(engine: AsyncEngine, survey: Survey, **filters) -> "pandas.DataFrame":
    """All selected completed responses as one DataFrame (the export columns, nullable integer codes), for the
    analyses that need every row at once: scores, the EFA, the report."""
    import pandas as pd

    rows = [row async for row in completed(engine, survey, **filters)]
    frame = pd.DataFrame(rows, columns=columns(survey))
    for name in frame.columns:
        if name not in META and not name.endswith("_other"):
            frame[name] = frame[name].astype("Int16")
    return frame

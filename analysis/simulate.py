"""`python -m analysis simulate --n 929 --seed 1`: synthetic respondents from the factor model of Table Е.1
(analysis/simulate_model.py), stored as completed responses through the storage layer, so that exports,
scores, the EFA and the benchmarks run on exactly what the bot would have collected.

The rows are stored in the order the bot would have written them, oldest first, with ids that grow in that
order: the tables then have the layout of real data, where the answers of the responses completed in one
period lie together, and an export reads them at the speed it would read real ones.
"""
from __future__ import annotations

import asyncio
import io
import secrets
from datetime import datetime, timezone

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from analysis.simulate_model import simulate_responses
from handlers.survey.definition import Survey
from storage.bulk import analyze, copy_csv, foreign_keys_checked_at_end, insert_rows
from storage.models import AnswerRow, ResponseRow

CHUNK = 10_000
RESPONSE_COLUMNS = ["id", "respondent", "survey_id", "survey_version", "language", "started_at", "completed_at"]
ANSWER_COLUMNS = ["response_id", "question", "codes", "other", "answered_at"]
DURATION = np.timedelta64(6, "m")  # started six minutes before completing


def answer_columns(survey: Survey, frame: pd.DataFrame) -> list[tuple[str, np.ndarray, np.ndarray | None]]:
    """Per question, the stored `codes` string of every row ('' where not asked) and its free text, vectorised:
    the inverse of analysis.responses.pivot."""
    out = []
    for q in survey.questions:
        if q.kind == "multi":
            picked = [(o.code, frame[f"{q.id}_{o.code}"]) for o in q.options]
            codes = np.array([""] * len(frame), dtype=object)
            for code, column in picked:
                chosen = column.fillna(0).to_numpy(dtype=float) == 1
                codes[chosen] = np.where(codes[chosen] == "", code, codes[chosen] + "," + code)
        else:
            values = frame[q.id]
            codes = np.where(values.isna(), "", values.astype("Float64").fillna(0).astype(int).astype(str))
        other = frame[f"{q.id}_other"].to_numpy(dtype=object, na_value=None) if f"{q.id}_other" in frame else None
        out.append((q.id, codes, other))
    return out


def _answers(survey: Survey, frame: pd.DataFrame) -> tuple[np.ndarray, ...]:
    """The answers of a chunk as parallel arrays (respondent index, question, codes, other), in primary-key
    order (response, then question id), so the load appends to the key's B-tree instead of scattering."""
    answered = sorted(answer_columns(survey, frame), key=lambda column: column[0])
    codes = np.stack([c for _q, c, _o in answered], axis=1)
    other = np.stack([o if o is not None else np.full(len(frame), None, dtype=object) for _q, _c, o in answered],
                     axis=1)
    questions = np.array([q for q, _c, _o in answered], dtype=object)
    given = codes != ""
    respondent, column = np.nonzero(given)  # row-major: respondent by respondent, questions in key order
    return respondent, questions[column], codes[given], other[given]


async def store_simulated(engine: AsyncEngine, survey: Survey, n: int, seed: int | None = None,
                          ending: datetime | None = None) -> int:
    """Draws n respondents and stores them as completed responses spread over the 30 days before `ending`,
    in one transaction."""
    ending = ending or datetime.now(timezone.utc)
    rng = np.random.default_rng(seed)
    end = np.datetime64(ending.astimezone(timezone.utc).replace(tzinfo=None), "us")
    offsets = np.sort(rng.uniform(0, 30 * 86400, n))[::-1]  # oldest first
    completed = end - (offsets * 1e6).astype("timedelta64[us]")
    run = secrets.token_hex(2)
    async with engine.begin() as connection:
        postgres = connection.dialect.name == "postgresql"

        def chunk(start: int) -> tuple:
            size = min(CHUNK, n - start)
            frame = simulate_responses(size, seed=None if seed is None else seed * 1_000_003 + start)
            # Ordered ids (a run prefix, a counter, a random tail) append to the primary-key B-trees.
            tails = np.frombuffer(secrets.token_bytes(2 * size), dtype=">u2")
            ids = np.array([f"{run}{start + i:07x}{t:04x}" for i, t in enumerate(tails)], dtype=object)
            return _rows(survey, frame, ids, completed[start:start + size], postgres)

        async with foreign_keys_checked_at_end(connection, AnswerRow.__table__):
            # The next chunk is drawn in a thread while the database loads the previous one.
            loading = None
            try:
                for start in range(0, n, CHUNK):
                    rows = await asyncio.to_thread(chunk, start)
                    if loading is not None:
                        await loading
                    loading = asyncio.ensure_future(_load(connection, postgres, *rows))
                if loading is not None:
                    await loading
            except BaseException:
                if loading is not None and not loading.done():
                    loading.cancel()
                    await asyncio.gather(loading, return_exceptions=True)
                raise
    async with engine.begin() as connection:
        await analyze(connection, ResponseRow.__table__, AnswerRow.__table__)
    return n


def _rows(survey: Survey, frame: pd.DataFrame, ids: np.ndarray, completed: np.ndarray, postgres: bool) -> tuple:
    """The chunk's responses and answers: COPY's CSV for PostgreSQL, tuples for SQLite's executemany."""
    respondent, question, codes, other = _answers(survey, frame)
    separator, zone = ("T", "+00") if postgres else (" ", "")  # SQLite: SQLAlchemy's naive UTC text
    stamp = lambda moments: np.char.add(np.char.replace(np.datetime_as_string(moments, unit="us"), "T", separator),
                                        zone).astype(object)
    completed_text, started_text = stamp(completed), stamp(completed - DURATION)
    responses = {
        "id": ids, "respondent": np.array([f"simulated:{rid}" for rid in ids], dtype=object),
        "survey_id": np.full(len(ids), survey.id, dtype=object),
        "survey_version": np.full(len(ids), survey.version, dtype=object),
        "language": frame["language"].to_numpy(dtype=object), "started_at": started_text,
        "completed_at": completed_text,
    }
    answers = {"response_id": ids[respondent], "question": question, "codes": codes, "other": other,
               "answered_at": completed_text[respondent]}
    if postgres:
        return _csv(responses), _csv(answers)
    return list(zip(*responses.values())), list(zip(*answers.values()))


async def _load(connection: AsyncConnection, postgres: bool, responses, answers) -> None:
    if postgres:
        await copy_csv(connection, ResponseRow.__table__, RESPONSE_COLUMNS, responses)
        await copy_csv(connection, AnswerRow.__table__, ANSWER_COLUMNS, answers)
    else:
        await insert_rows(connection, ResponseRow.__table__, RESPONSE_COLUMNS, responses, times_as_text=True)
        await insert_rows(connection, AnswerRow.__table__, ANSWER_COLUMNS, answers, times_as_text=True)


def _csv(columns: dict[str, np.ndarray]) -> bytes:
    """COPY's CSV: Arrow quotes every string and leaves a null unquoted and empty, which COPY reads as NULL."""
    table = pa.table({name: pa.array(values, from_pandas=True) for name, values in columns.items()})
    out = io.BytesIO()
    pa_csv.write_csv(table, out, pa_csv.WriteOptions(include_header=False))
    return out.getvalue()

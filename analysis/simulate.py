"""`python -m analysis simulate --n 929 --seed 1`: synthetic respondents from the factor model of Table Е.1
(analysis/simulate_model.py), stored as completed responses through the storage layer, so that exports,
scores, the EFA and the benchmarks run on exactly what the bot would have collected.

The rows are stored in the order the bot would have written them, oldest first, with ids that grow in that
order: the tables then have the layout of real data, where the answers of the responses completed in one
period lie together, and an export reads them at the speed it would read real ones.
"""
from __future__ import annotations

import asyncio
import secrets
from datetime import datetime, timezone

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy.ext.asyncio import AsyncEngine

from analysis.simulate_model import simulate_responses
from handlers.survey.definition import Survey
from storage.bulk import Prepared, keys_checked_at_end, load, prepare
from storage.models import AnswerRow, ResponseRow

CHUNK = 10_000
DURATION = np.timedelta64(6, "m")  # started six minutes before completing


def answer_columns(survey: Survey, frame: pd.DataFrame) -> list[tuple[str, pa.Array, pa.Array | None]]:
    """Per question (in the answers' key order), the stored `codes` of every row (null where not asked) and its
    free text (null where none): the inverse of analysis.responses.pivot, in Arrow's kernels."""
    out = []
    for q in sorted(survey.questions, key=lambda q: q.id):
        if q.kind == "multi":
            picked = [pc.if_else(pc.equal(pa.array(frame[f"{q.id}_{o.code}"]), 1), str(o.code), None)
                      for o in q.options]
            # (null_handling="skip" would be the direct way, but Arrow 26 drops the rows where all are null)
            joined = pc.binary_join_element_wise(*picked, ",", null_handling="replace", null_replacement="")
            codes = pc.utf8_trim(pc.replace_substring_regex(joined, ",+", ","), ",")
            codes = pc.if_else(pc.equal(codes, ""), None, codes)  # nothing picked: the question was not asked
        else:
            codes = pc.cast(pa.array(frame[q.id]), pa.string())
        other = pa.array(frame[f"{q.id}_other"], pa.string()) if f"{q.id}_other" in frame else None
        out.append((q.id, codes, other))
    return out


def _answers(survey: Survey, frame: pd.DataFrame) -> tuple[np.ndarray, pa.Array, pa.Array, pa.Array]:
    """The answers of a chunk as (respondent index, question, codes, other), in primary-key order (response, then
    question id), so the load appends to the key's B-tree instead of scattering."""
    answered = answer_columns(survey, frame)
    n, width = len(frame), len(answered)
    codes = pa.concat_arrays([c for _q, c, _o in answered])  # question-major: question k's rows at k*n …
    other = pa.concat_arrays([o if o is not None else pa.nulls(n, pa.string()) for _q, _c, o in answered])
    # respondent-major order, then only the questions asked
    order = (np.arange(width)[None, :] * n + np.arange(n)[:, None]).ravel()
    order = order[codes.is_valid().to_numpy(zero_copy_only=False)[order]]
    questions = pa.array([q for q, _c, _o in answered]).take(order // n)
    return order % n, questions, codes.take(order), other.take(order)


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
        dialect = connection.dialect.name

        def chunk(start: int) -> tuple[Prepared, Prepared]:
            size = min(CHUNK, n - start)
            frame = simulate_responses(size, seed=None if seed is None else seed * 1_000_003 + start)
            # Ordered ids (a run prefix, a counter, a random tail) append to the primary-key B-trees.
            tails = np.frombuffer(secrets.token_bytes(2 * size), dtype=">u2")
            ids = [f"{run}{start + i:07x}{t:04x}" for i, t in enumerate(tails)]
            responses, answers = _rows(survey, frame, ids, completed[start:start + size])
            return prepare(dialect, ResponseRow.__table__, responses), prepare(dialect, AnswerRow.__table__, answers)

        async with keys_checked_at_end(connection, AnswerRow.__table__):
            # The next chunk is drawn and encoded in a thread while the database loads the previous one.
            loading = None
            try:
                for start in range(0, n, CHUNK):
                    rows = await asyncio.to_thread(chunk, start)
                    if loading is not None:
                        await loading
                    loading = asyncio.ensure_future(_load(connection, *rows))
                if loading is not None:
                    await loading
            except BaseException:
                if loading is not None and not loading.done():
                    loading.cancel()
                    await asyncio.gather(loading, return_exceptions=True)
                raise
    # No ANALYZE (0.5 s): the reads that follow go through the answers' primary key whatever the statistics
    # say (measured with autovacuum off), and where autovacuum runs it gathers them in its time.
    return n


def _rows(survey: Survey, frame: pd.DataFrame, ids: list[str], completed: np.ndarray) -> tuple[dict, dict]:
    """The chunk's responses and answers as Arrow columns."""
    respondent, question, codes, other = _answers(survey, frame)
    size = len(ids)
    completed_at = pa.array(completed, pa.timestamp("us", "UTC"))
    ids = pa.array(ids, pa.string())
    responses = {
        "id": ids, "respondent": pc.binary_join_element_wise("simulated:", ids, ""),
        "survey_id": pa.array([survey.id] * size, pa.string()),
        "survey_version": pa.array(np.full(size, survey.version, dtype=np.int32)),
        "language": pa.array(frame["language"], pa.string()),
        "started_at": pa.array(completed - DURATION, pa.timestamp("us", "UTC")), "completed_at": completed_at,
    }
    answers = {"response_id": ids.take(respondent), "question": question, "codes": codes, "other": other,
               "answered_at": completed_at.take(respondent)}
    return responses, answers


async def _load(connection, responses: Prepared, answers: Prepared) -> None:
    await load(connection, responses)
    await load(connection, answers)

"""`python -m analysis simulate --n 929 --seed 1`: synthetic respondents from the factor model of Table Е.1
(analysis/simulate_model.py), stored as completed responses through the storage layer, so that exports,
scores, the EFA and the benchmarks run on exactly what the bot would have collected."""
from __future__ import annotations

import secrets
from datetime import datetime, timedelta, timezone

import numpy as np
import pandas as pd
from sqlalchemy.ext.asyncio import AsyncEngine

from analysis.simulate_model import simulate_responses
from handlers.survey.definition import Survey
from storage.bulk import insert_rows
from storage.models import AnswerRow, ResponseRow

CHUNK = 10_000
RESPONSE_COLUMNS = ["id", "respondent", "survey_id", "survey_version", "language", "started_at", "completed_at"]
ANSWER_COLUMNS = ["response_id", "question", "codes", "other", "answered_at"]


def answer_columns(survey: Survey, frame: pd.DataFrame) -> list[tuple[str, np.ndarray, np.ndarray | None]]:
    """Per question, the stored `codes` string of every row ('' where not asked) and its free text, vectorised:
    the inverse of analysis.responses.flatten."""
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
        other = frame[f"{q.id}_other"].to_numpy(dtype=object) if f"{q.id}_other" in frame else None
        out.append((q.id, codes, other))
    return out


async def store_simulated(engine: AsyncEngine, survey: Survey, n: int, seed: int | None = None,
                          ending: datetime | None = None) -> int:
    """Draws n respondents and stores them as completed responses spread over the 30 days before `ending`."""
    ending = ending or datetime.now(timezone.utc)
    rng = np.random.default_rng(seed)
    run, written = secrets.token_hex(2), 0
    for start in range(0, n, CHUNK):
        size = min(CHUNK, n - start)
        frame = simulate_responses(size, seed=None if seed is None else seed * 1_000_003 + start)
        completed = [ending - timedelta(seconds=float(s)) for s in rng.uniform(0, 30 * 86400, size)]
        # Ordered ids (a run prefix, a counter, a random tail) append to the answers' primary-key B-tree instead of
        # scattering writes across it, which made a 100,000-respondent import several times slower on SQLite.
        ids = [f"{run}{start + i:07x}{secrets.token_hex(2)}" for i in range(size)]
        responses = [
            (rid, f"simulated:{rid}", survey.id, survey.version, language, at - timedelta(minutes=6), at)
            for rid, language, at in zip(ids, frame["language"], completed)
        ]
        answers = []
        for qid, codes, other in answer_columns(survey, frame):
            for i in np.flatnonzero(codes != ""):
                text = other[i] if other is not None else None
                answers.append((ids[i], qid, codes[i], None if pd.isna(text) else text, completed[i]))
        async with engine.begin() as connection:
            await insert_rows(connection, ResponseRow.__table__, RESPONSE_COLUMNS, responses)
            await insert_rows(connection, AnswerRow.__table__, ANSWER_COLUMNS, answers)
        written += size
    return written

"""storage.bulk.load_columns: rows given as Arrow columns come back exactly, on both engines (binary COPY on
PostgreSQL, multi-row INSERTs on SQLite): NULLs, Kazakh and Kyrgyz letters, quotes and line breaks, timestamps
before 2000 and with microseconds, more rows than one INSERT takes."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pyarrow as pa
from sqlalchemy import select

from storage.bulk import SQLITE_ROWS_PER_INSERT, load_columns
from storage.models import AnswerRow, ResponseRow

AT = datetime(2026, 5, 4, 3, 2, 1, 987654, tzinfo=timezone.utc)
TEXTS = ['Әлеуметтік, "ғимарат"\nқала', "Өңір үй-жай ұңғыма һәм і", "Үйлөр ңөө", "", None]


async def test_columns_round_trip(app):
    n = SQLITE_ROWS_PER_INSERT * 2 + 7  # two whole INSERTs and a short one
    ids = [f"bulk{i:05d}" for i in range(n)]
    started = [datetime(1999, 12, 31, 23, 59, 59, 1, tzinfo=timezone.utc) + timedelta(seconds=i) for i in range(n)]
    completed = [None if i % 3 == 0 else AT + timedelta(microseconds=i) for i in range(n)]
    responses = {
        "id": pa.array(ids), "respondent": pa.array([f"p{i % 7}" for i in range(n)]),
        "survey_id": pa.array(["smart_city"] * n), "survey_version": pa.array([i % 4 for i in range(n)], pa.int32()),
        "language": pa.array(["kk", "ru", "ky"] * (n // 3) + ["kk"] * (n % 3)),
        "started_at": pa.array(started, pa.timestamp("us", "UTC")),
        "completed_at": pa.array(completed, pa.timestamp("us", "UTC")),
    }
    answers = {
        "response_id": pa.array(ids), "question": pa.array(["q4"] * n),
        "codes": pa.array([",".join(str(c) for c in range(1 + i % 3)) for i in range(n)]),
        "other": pa.array([TEXTS[i % len(TEXTS)] for i in range(n)]),
        "answered_at": pa.array([AT] * n, pa.timestamp("us", "UTC")),
    }
    async with app.engine.begin() as connection:
        await load_columns(connection, ResponseRow.__table__, responses)
        await load_columns(connection, AnswerRow.__table__, answers)
        await load_columns(connection, AnswerRow.__table__, {k: v.slice(0, 0) for k, v in answers.items()})
    async with app.engine.connect() as connection:
        got = (await connection.execute(select(ResponseRow.__table__).order_by(ResponseRow.id))).all()
        given = (await connection.execute(select(AnswerRow.__table__).order_by(AnswerRow.response_id))).all()

    def utc(moment):  # SQLite hands back naive UTC
        return moment if moment is None or moment.tzinfo else moment.replace(tzinfo=timezone.utc)

    assert [(r.id, r.respondent, r.survey_id, r.survey_version, r.language, utc(r.started_at), utc(r.completed_at))
            for r in got] == list(zip(*(column.to_pylist() for column in responses.values())))
    assert [(a.response_id, a.question, a.codes, a.other, utc(a.answered_at)) for a in given] == \
        list(zip(*(column.to_pylist() for column in answers.values())))

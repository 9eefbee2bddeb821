"""storage.bulk.load_columns: rows given as Arrow columns come back exactly, on both engines (binary COPY on
PostgreSQL, multi-row INSERTs on SQLite): NULLs, Kazakh and Kyrgyz letters, quotes and line breaks, timestamps
before 2000 and with microseconds, more rows than one INSERT takes."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pyarrow as pa
import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from storage.bulk import SQLITE_ROWS_PER_INSERT, keys_checked_at_end, load_columns
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


async def _constraints(connection) -> list[tuple[str, str]]:
    if connection.dialect.name != "postgresql":
        return []
    return sorted((await connection.exec_driver_sql(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = to_regclass('answers')")).all())


def _answers(ids: list[str], questions: list[str]) -> dict[str, pa.Array]:
    n = len(ids)
    return {"response_id": pa.array(ids), "question": pa.array(questions), "codes": pa.array(["1"] * n),
            "other": pa.nulls(n, pa.string()), "answered_at": pa.array([AT] * n, pa.timestamp("us", "UTC"))}


async def _load_in_one_transaction(app, answers: dict[str, pa.Array]) -> None:
    async with app.engine.begin() as connection:
        responses = {"id": pa.array(["r1"]), "respondent": pa.array(["p1"]), "survey_id": pa.array(["smart_city"]),
                     "survey_version": pa.array([1], pa.int32()), "language": pa.array(["kk"]),
                     "started_at": pa.array([AT], pa.timestamp("us", "UTC")),
                     "completed_at": pa.array([AT], pa.timestamp("us", "UTC"))}
        await load_columns(connection, ResponseRow.__table__, responses)
        async with keys_checked_at_end(connection, AnswerRow.__table__):
            await load_columns(connection, AnswerRow.__table__, answers)


@pytest.mark.parametrize("ids, questions", [
    (["r1", "r1"], ["q1", "q1"]),  # the same answer twice
    (["r1", "nobody"], ["q1", "q1"]),  # an answer to a response that does not exist
], ids=["duplicate key", "dangling reference"])
async def test_keys_checked_at_end_reject_bad_rows_and_keep_nothing(app, ids, questions):
    """Under keys_checked_at_end the keys are checked once at the end of the block instead of per row; a bad row
    still fails the load, nothing of the transaction stays, and the table keeps its constraints."""
    async with app.engine.connect() as connection:
        before = await _constraints(connection)
    with pytest.raises(IntegrityError):
        await _load_in_one_transaction(app, _answers(ids, questions))
    async with app.engine.connect() as connection:
        assert (await connection.execute(select(func.count()).select_from(ResponseRow))).scalar() == 0
        assert (await connection.execute(select(func.count()).select_from(AnswerRow))).scalar() == 0
        assert await _constraints(connection) == before


async def test_keys_checked_at_end_restore_the_constraints(app):
    async with app.engine.connect() as connection:
        before = await _constraints(connection)
    await _load_in_one_transaction(app, _answers(["r1", "r1"], ["q1", "q2"]))
    async with app.engine.connect() as connection:
        assert await _constraints(connection) == before
        if connection.dialect.name == "postgresql":
            assert {definition.split(" (")[0] for _name, definition in before} == {"PRIMARY KEY", "FOREIGN KEY"}
    with pytest.raises(IntegrityError):  # the key is back: the same answer again is refused
        async with app.engine.begin() as connection:
            await load_columns(connection, AnswerRow.__table__, _answers(["r1"], ["q1"]))

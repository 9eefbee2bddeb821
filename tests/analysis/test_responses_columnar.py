"""The columnar read path (analysis.responses.frames): responses stored by hand, then the rows expected by hand.

Covers what the pivot has to get right: multi-selects expanded to 0/1, "other" texts (a comma, quotes, a line
break, a tab, a backslash, an emoji, which travel inside the database's JSON; an empty text apart from none), a
q1 = 4 respondent whose skipped questions stay empty, an unfinished response left out, and batches cut between
equal timestamps.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pandas as pd
import pytest

from analysis.responses import frames, load_frame
from storage.models import AnswerRow, ResponseRow

AT = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
TEXT = 'Через ЦОН, "быстро"\nи удобно\tC:\\путь 🙂 ә'
STATEMENTS = {f"s{i}": str(1 + i % 5) for i in range(1, 22)}
PROFILE = {"q7": "2", "q8": "1", "q10": "3", "q11": "1", "q12": "2"}
# id -> (completed, language, {question: (codes, other)})
STORED = {
    "r-full": (AT, "kk", {"q1": ("2", None), "q2": ("1,3,5", None), "q3": ("2", None), "q4": ("4", TEXT),
                          "q5": ("1", None), **{s: (c, None) for s, c in STATEMENTS.items()},
                          **{q: (c, None) for q, c in PROFILE.items()}, "city": ("99", ""),
                          "q6": ("2", "from an older version of the survey")}),  # not in the definition: left out
    "r-skip-b": (AT + timedelta(hours=1), "ky", {"q1": ("4", None), **{q: (c, None) for q, c in PROFILE.items()},
                                                 "city": ("1", None)}),
    "r-skip-a": (AT + timedelta(hours=1), "ru", {"q1": ("4", None), **{q: (c, None) for q, c in PROFILE.items()},
                                                 "city": ("2", None)}),
    "r-open": (None, "ru", {"q1": ("1", None)}),
}


@pytest.fixture
async def stored(app):
    async with app.engine.begin() as connection:
        for rid, (completed, language, given) in STORED.items():
            await connection.execute(ResponseRow.__table__.insert().values(
                id=rid, respondent=f"p-{rid}", survey_id=app.survey.id, survey_version=app.survey.version,
                language=language, started_at=AT - timedelta(minutes=5), completed_at=completed))
            for question, (codes, other) in given.items():
                await connection.execute(AnswerRow.__table__.insert().values(
                    response_id=rid, question=question, codes=codes, other=other, answered_at=AT))
    return app


def expected_full() -> dict:
    row = {"response_id": "r-full", "language": "kk", "q1": 2, "q4": 4, "q4_other": TEXT, "q5": 1,
           "q5_other": None, "city": 99, "city_other": ""}
    row |= {f"q2_{code}": int(code in (1, 3, 5)) for code in range(1, 9)}
    row |= {f"q3_{code}": int(code == 2) for code in range(1, 6)}
    row |= {s: int(c) for s, c in STATEMENTS.items()} | {q: int(c) for q, c in PROFILE.items()}
    return row


def expected_skip(rid: str, language: str, city: int) -> dict:
    row = {"response_id": rid, "language": language, "q1": 4, "q4_other": None, "q5_other": None, "city": city,
           "city_other": None}
    row |= {f"q2_{code}": None for code in range(1, 9)} | {f"q3_{code}": None for code in range(1, 6)}
    row |= {"q4": None, "q5": None} | {s: None for s in STATEMENTS} | {q: int(c) for q, c in PROFILE.items()}
    return row


EXPECTED = [expected_full(), expected_skip("r-skip-a", "ru", 2), expected_skip("r-skip-b", "ky", 1)]


def plain(frame: pd.DataFrame) -> list[dict]:
    """The frame's cells as Python values, None where empty."""
    return [{k: (None if v is pd.NA or (isinstance(v, float) and pd.isna(v)) else v) for k, v in row.items()}
            for row in frame.astype(object).to_dict("records")]


@pytest.mark.parametrize("batch", [1, 2, 25_000])
async def test_batches_pivot_to_the_rows_written_by_hand(stored, batch):
    parts = [frame async for frame in frames(stored.engine, stored.survey, batch=batch)]
    assert [len(p) for p in parts] == ([1, 1, 1] if batch == 1 else [2, 1] if batch == 2 else [3])
    rows = [row for part in parts for row in plain(part)]
    assert len(rows) == len(EXPECTED)
    for got, want in zip(rows, EXPECTED):
        assert {k: got[k] for k in want} == want
        assert got["completed_at"].tzinfo is not None and got["survey_version"] == stored.survey.version
    assert rows[0]["completed_at"] == AT and rows[0]["started_at"] == AT - timedelta(minutes=5)


async def test_load_frame_types_and_filters(stored):
    frame = await load_frame(stored.engine, stored.survey)
    assert list(frame.response_id) == ["r-full", "r-skip-a", "r-skip-b"]
    assert str(frame["q2_1"].dtype) == "Int16" and str(frame["s1"].dtype) == "Int16"
    assert str(frame["completed_at"].dtype) == "datetime64[us, UTC]"
    city99 = await load_frame(stored.engine, stored.survey, cities=("99",))
    assert list(city99.response_id) == ["r-full"] and city99.loc[0, "q4_other"] == TEXT
    later = await load_frame(stored.engine, stored.survey, since=AT + timedelta(minutes=30), languages=("ky",))
    assert list(later.response_id) == ["r-skip-b"]
    none = await load_frame(stored.engine, stored.survey, version=stored.survey.version + 1)
    assert len(none) == 0 and list(none.columns) == list(frame.columns)

"""Writes completed responses to files researchers open directly. CSV here; more formats join in issue 03."""
from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from analysis.responses import columns, completed
from handlers.survey.definition import Survey


def _cell(value):
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    return value


async def export_csv(engine: AsyncEngine, survey: Survey, out: Path, since=None) -> int:
    """UTF-8 CSV, one row per completed response, empty cells for questions not asked. Returns the row count."""
    count = 0
    with open(out, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        names = columns(survey)
        writer.writerow(names)
        async for row in completed(engine, survey, since=since):
            writer.writerow([_cell(row[name]) for name in names])
            count += 1
    return count


FORMATS = {"csv": export_csv}

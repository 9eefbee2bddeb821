"""The results of a participatory-budget cycle: supports per approved idea, by district, as CSV or XLSX.

    python -m analysis ideas --cycle 2026 --format csv|xlsx --out results.csv [--labels ru|kk|ky|en]

One row per approved idea of the cycle, the districts in the deployment's order and the most supported first in
each. No author and no description: only what the city publishes.
"""
from __future__ import annotations

import csv
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from handlers.deployment import Deployment
from storage import ideas

COLUMNS = ("cycle", "district_code", "district", "idea_id", "title", "category_code", "category", "supports")
FORMATS = ("csv", "xlsx")


class UnknownCycle(ValueError):
    pass


async def rows(engine: AsyncEngine, deployment: Deployment, cycle: str, labels: str = "ru") -> list[dict]:
    if cycle not in {c.id for c in deployment.cycles}:
        known = ", ".join(c.id for c in deployment.cycles) or "none"
        raise UnknownCycle(f"no budget cycle {cycle!r} in the deployment {deployment.id} (its cycles: {known})")
    order = {d.code: i for i, d in enumerate(deployment.districts)}
    found = await ideas.results(engine, cycle)
    found.sort(key=lambda v: (order.get(v.district, len(order)), v.district, -v.supports, v.id))

    def name(named) -> str:
        return named.name(labels) if named else ""

    return [{
        "cycle": v.cycle, "district_code": v.district, "district": name(deployment.district(v.district)),
        "idea_id": v.id, "title": v.title, "category_code": v.category,
        "category": name(deployment.category(v.category)), "supports": v.supports,
    } for v in found]


def write(table: list[dict], out: Path, fmt: str) -> None:
    if fmt == "csv":
        with open(out, "w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=COLUMNS)
            writer.writeheader()
            writer.writerows(table)
        return
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "results"
    sheet.append(list(COLUMNS))
    for row in table:
        sheet.append([row[c] for c in COLUMNS])
    book.save(out)


async def export(engine: AsyncEngine, deployment: Deployment, cycle: str, out: Path, fmt: str = "csv",
                 labels: str = "ru") -> int:
    """Writes the results file; returns the number of ideas in it."""
    table = await rows(engine, deployment, cycle, labels)
    write(table, out, fmt)
    return len(table)

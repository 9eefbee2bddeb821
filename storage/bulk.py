"""Bulk writes for imports and synthetic data: COPY on PostgreSQL, one executemany on SQLite.

The conversation path writes an answer at a time; an import of 100,000 responses would take minutes that way.
"""
from __future__ import annotations

from contextlib import asynccontextmanager
from datetime import datetime, timezone
from typing import AsyncIterator

from sqlalchemy import Table
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection


async def insert_rows(connection: AsyncConnection, table: Table, columns: list[str], rows: list[tuple],
                      *, times_as_text: bool = False) -> None:
    """`times_as_text`: on SQLite, the timestamps are already text in SQLAlchemy's format (skips a pass over
    every value, seconds for millions of rows)."""
    if not rows:
        return
    if connection.dialect.name == "postgresql":
        raw = await connection.get_raw_connection()
        schema = (await connection.exec_driver_sql("SELECT current_schema()")).scalar()
        await raw.driver_connection.copy_records_to_table(table.name, records=rows, columns=columns, schema_name=schema)
        return
    # Timestamps as SQLAlchemy stores DateTime on SQLite (naive UTC text); sqlite3's own adapter would write
    # another format, and per row in Python, which made it the slowest part of a large import.
    if not times_as_text:
        rows = [tuple(_sqlite_time(v) if isinstance(v, datetime) else v for v in row) for row in rows]
    marks = ", ".join("?" for _ in columns)
    await connection.exec_driver_sql(f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({marks})", rows)


async def copy_csv(connection: AsyncConnection, table: Table, columns: list[str], payload: bytes) -> None:
    """PostgreSQL only: rows already rendered as CSV (NULL unquoted-empty, the empty string quoted), loaded with
    one COPY. Rendering a column at a time (numpy, Arrow) is far cheaper than one Python tuple per row."""
    raw = await connection.get_raw_connection()
    schema = (await connection.exec_driver_sql("SELECT current_schema()")).scalar()

    async def pieces():  # an async source: asyncpg would read a file object from a worker thread
        view = memoryview(payload)
        for at in range(0, len(view), 1 << 20):
            yield view[at:at + (1 << 20)]

    await raw.driver_connection.copy_to_table(
        table.name, source=pieces(), columns=columns, schema_name=schema, format="csv")


@asynccontextmanager
async def foreign_keys_checked_at_end(connection: AsyncConnection, table: Table) -> AsyncIterator[None]:
    """Within the caller's transaction, PostgreSQL checks `table`'s foreign keys once for all rows written in the
    block instead of once per row (a trigger per row made checking 2.8 million answers take 13 s, the load
    itself 5 s): the constraints are dropped and added again, exactly as they were, which validates every row
    in one join. The table is locked against other writers until the transaction ends, and a failed check
    rolls the whole transaction back. Without the right to alter the table (not its owner), or on SQLite,
    rows are checked one by one as usual."""
    if connection.dialect.name != "postgresql":
        yield
        return
    constraints = (await connection.exec_driver_sql(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = to_regclass(%s) AND contype = 'f'" % _literal(table.name))).all()
    try:
        async with connection.begin_nested():
            for name, _definition in constraints:
                await connection.exec_driver_sql(f'ALTER TABLE {table.name} DROP CONSTRAINT "{name}"')
    except DBAPIError:
        constraints = []  # not ours to alter: the per-row checks stay
    yield
    for name, definition in constraints:
        await connection.exec_driver_sql(f'ALTER TABLE {table.name} ADD CONSTRAINT "{name}" {definition}')


async def analyze(connection: AsyncConnection, *tables: Table) -> None:
    """Fresh planner statistics after a bulk load (PostgreSQL; autovacuum would get there only later): with
    the old ones the planner misjudges the answers table and scans all of it for every export batch."""
    if connection.dialect.name == "postgresql":
        for table in tables:
            await connection.exec_driver_sql(f"ANALYZE {table.name}")


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _sqlite_time(moment: datetime) -> str:
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")

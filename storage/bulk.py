"""Bulk writes for imports and synthetic data: COPY on PostgreSQL, one executemany on SQLite.

The conversation path writes an answer at a time; an import of 100,000 responses would take minutes that way.
"""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncConnection


async def insert_rows(connection: AsyncConnection, table: Table, columns: list[str], rows: list[tuple]) -> None:
    if not rows:
        return
    if connection.dialect.name == "postgresql":
        raw = await connection.get_raw_connection()
        schema = (await connection.exec_driver_sql("SELECT current_schema()")).scalar()
        await raw.driver_connection.copy_records_to_table(table.name, records=rows, columns=columns, schema_name=schema)
        return
    # Timestamps as SQLAlchemy stores DateTime on SQLite (naive UTC text); sqlite3's own adapter would write
    # another format, and per row in Python, which made it the slowest part of a large import.
    rows = [tuple(_sqlite_time(v) if isinstance(v, datetime) else v for v in row) for row in rows]
    marks = ", ".join("?" for _ in columns)
    await connection.exec_driver_sql(f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({marks})", rows)


def _sqlite_time(moment: datetime) -> str:
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")

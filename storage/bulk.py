"""Bulk writes for imports and synthetic data: binary COPY on PostgreSQL, multi-row INSERTs on SQLite.

The conversation path writes an answer at a time; an import of 100,000 responses would take minutes that way.
Rows come in as Arrow columns, so neither engine's payload is built one Python tuple at a time.
"""
from __future__ import annotations

import asyncio
import struct
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import AsyncIterator

import asyncpg
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import DateTime, Integer, Table
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

# PostgreSQL's binary COPY: a signature, flags and header-extension length, then per row a field count and per
# field its byte length (-1 for NULL) and its bytes in network order; -1 as a field count ends the data.
COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + struct.pack("!ii", 0, 0)
COPY_TRAILER = struct.pack("!h", -1)
POSTGRES_EPOCH_US = 946_684_800_000_000  # 2000-01-01 in microseconds since 1970: binary timestamps count from it
# SQLite binds at most 32,766 values per statement; rows per INSERT beyond a few hundred gain nothing.
SQLITE_ROWS_PER_INSERT = 500


@dataclass(frozen=True)
class Prepared:
    """Rows made ready for one table by `prepare` (CPU work, in any thread), loaded by `load`: binary COPY data
    for PostgreSQL, INSERT statements with their parameters for SQLite."""

    table: Table
    columns: tuple[str, ...]
    copy: memoryview | None = None
    inserts: tuple[tuple[str, list[tuple]], ...] = ()


def prepare(dialect: str, table: Table, columns: dict[str, pa.Array]) -> Prepared:
    """Rows given as equally long Arrow columns (strings, integers, UTC timestamps; nulls allowed), made ready
    for `dialect` ("postgresql" or "sqlite")."""
    if not columns or not len(next(iter(columns.values()))):
        return Prepared(table, tuple(columns))  # nothing to load
    if dialect == "postgresql":
        return Prepared(table, tuple(columns), copy=_encode_binary(table, columns))
    return Prepared(table, tuple(columns), inserts=_sqlite_inserts(table, columns))


async def load(connection: AsyncConnection, rows: Prepared) -> None:
    """Insert prepared rows in the caller's transaction: one COPY … FORMAT binary on PostgreSQL (about a quarter
    less server time than CSV, which it had to parse), INSERTs of 500 rows each on SQLite (about 40% less time
    than a row each)."""
    if rows.copy is None:
        for statement, parameters in rows.inserts:
            await connection.exec_driver_sql(statement, parameters)
        return
    raw = await connection.get_raw_connection()
    schema = (await connection.exec_driver_sql("SELECT current_schema()")).scalar()
    body = rows.copy

    async def pieces():  # an async source: asyncpg would read a file object from a worker thread
        yield COPY_HEADER
        for at in range(0, len(body), 1 << 20):
            yield body[at:at + (1 << 20)]
        yield COPY_TRAILER

    try:
        await raw.driver_connection.copy_to_table(
            rows.table.name, source=pieces(), columns=list(rows.columns), schema_name=schema, format="binary")
    except asyncpg.PostgresError as error:  # as SQLAlchemy's, so callers catch the same errors on both engines
        kind = IntegrityError if isinstance(error, asyncpg.IntegrityConstraintViolationError) else DBAPIError
        raise kind(f"COPY {rows.table.name} FROM STDIN", None, error) from error


async def load_columns(connection: AsyncConnection, table: Table, columns: dict[str, pa.Array]) -> None:
    """`prepare` (in a worker thread: Arrow's kernels release the GIL) then `load`."""
    await load(connection, await asyncio.to_thread(prepare, connection.dialect.name, table, columns))


def _encode_binary(table: Table, columns: dict[str, pa.Array]) -> memoryview:
    """The rows of binary COPY, without header and trailer, as one buffer, encoded a column at a time."""
    rows = pc.binary_join_element_wise(
        pa.scalar(struct.pack("!h", len(columns)), pa.binary()),
        *(_binary_field(table.c[name].type, values) for name, values in columns.items()),
        pa.scalar(b"", pa.binary()),
    )
    offsets = np.frombuffer(rows.buffers()[1], dtype=np.int32, count=len(rows) + 1, offset=4 * rows.offset)
    return memoryview(rows.buffers()[2])[offsets[0]:offsets[-1]]


def _binary_field(kind, values: pa.Array) -> pa.Array:
    """Each value as binary COPY's length + bytes, as one binary array."""
    missing = values.is_null().to_numpy(zero_copy_only=False)
    if isinstance(kind, DateTime):
        micros = pc.cast(pc.cast(values, pa.timestamp("us", "UTC")), pa.int64())
        data = _big_endian(pc.fill_null(micros, 0).to_numpy(zero_copy_only=False) - POSTGRES_EPOCH_US, ">i8")
        width = np.full(len(values), 8, dtype=np.int64)
    elif isinstance(kind, Integer):  # int4, the only integer the loaded tables use
        data = _big_endian(pc.fill_null(pc.cast(values, pa.int32()), 0).to_numpy(zero_copy_only=False), ">i4")
        width = np.full(len(values), 4, dtype=np.int64)
    else:  # text: UTF-8 bytes, checked by the server
        data = pc.fill_null(pc.cast(values, pa.binary()), b"")
        width = pc.fill_null(pc.binary_length(data), 0).to_numpy(zero_copy_only=False)
    data = pc.if_else(pa.array(missing), pa.scalar(b"", pa.binary()), data)
    return pc.binary_join_element_wise(_big_endian(np.where(missing, -1, width), ">i4"), data, b"")


def _big_endian(numbers: np.ndarray, dtype: str) -> pa.Array:
    packed = np.ascontiguousarray(numbers.astype(dtype))
    size = packed.dtype.itemsize
    fixed = pa.FixedSizeBinaryArray.from_buffers(pa.binary(size), len(packed), [None, pa.py_buffer(packed)])
    return fixed.cast(pa.binary())


def _sqlite_inserts(table: Table, columns: dict[str, pa.Array]) -> tuple[tuple[str, list[tuple]], ...]:
    values = np.stack([_python_values(table.c[name].type, column) for name, column in columns.items()], axis=1)
    n, width = values.shape
    row = "(" + ", ".join("?" for _ in range(width)) + ")"
    prefix = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES "
    step, out = SQLITE_ROWS_PER_INSERT, []
    whole = n - n % step
    if whole:
        groups = values[:whole].reshape(-1, step * width).tolist()  # one list of parameters per INSERT
        out.append((prefix + ", ".join([row] * step), list(map(tuple, groups))))
    if n > whole:
        out.append((prefix + ", ".join([row] * (n - whole)), [tuple(values[whole:].ravel())]))
    return tuple(out)


def _python_values(kind, values: pa.Array) -> np.ndarray:
    """A column as Python objects for sqlite3, timestamps as the naive UTC text SQLAlchemy stores. Repeated
    values (a response id on each of its answers, the question ids) become one shared object each."""
    encoded = values.dictionary_encode()
    distinct = encoded.dictionary
    if isinstance(kind, DateTime):
        moments = pc.cast(pc.cast(distinct, pa.timestamp("us", "UTC")), pa.int64()).to_numpy().astype("datetime64[us]")
        shared = np.char.replace(np.datetime_as_string(moments, unit="us"), "T", " ").astype(object)
    else:
        shared = np.asarray(distinct.to_pylist(), dtype=object)
    shared = np.append(shared, None)  # the last one stands for NULL
    return shared[pc.fill_null(encoded.indices, len(distinct)).to_numpy(zero_copy_only=False)]


@asynccontextmanager
async def keys_checked_at_end(connection: AsyncConnection, table: Table) -> AsyncIterator[None]:
    """Within the caller's transaction, PostgreSQL builds `table`'s primary key and checks its foreign keys once
    for all rows written in the block instead of once per row: the constraints are dropped and added again,
    exactly as they were. A foreign key added again validates every row in one join (a trigger per row made
    checking 2.8 million answers take 13 s); a primary key added again is one sorted index build, which the
    server may spread over its parallel maintenance workers, where rows inserted one by one into the key's
    B-tree held one core (simulate --n 100000: 6.7-7.0 s down to 4.9-5.2 s). A primary key that another table's
    foreign key references stays. The table is locked against other readers and writers until the transaction
    ends; a duplicate key or a dangling reference rolls the whole transaction back. Without the right to alter
    the table (not its owner), or on SQLite, keys are checked row by row as usual."""
    if connection.dialect.name != "postgresql":
        yield
        return
    constraints = (await connection.exec_driver_sql(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint AS c "
        "WHERE conrelid = to_regclass(%s) AND (contype = 'f' OR contype = 'p' AND NOT EXISTS "
        "(SELECT FROM pg_constraint AS r WHERE r.confrelid = c.conrelid AND r.contype = 'f')) "
        "ORDER BY contype DESC" % _literal(table.name))).all()  # 'p' before 'f': the key first, then references
    try:
        async with connection.begin_nested():
            for name, _definition in constraints:
                await connection.exec_driver_sql(f'ALTER TABLE {table.name} DROP CONSTRAINT "{name}"')
    except DBAPIError:
        constraints = []  # not ours to alter: the per-row checks stay
    yield
    for name, definition in constraints:
        await connection.exec_driver_sql(f'ALTER TABLE {table.name} ADD CONSTRAINT "{name}" {definition}')


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"

"""Answers per second through the whole stack (conversation + storage, every answer committed before the next
question is produced), with N simulated respondents at once, on SQLite and on PostgreSQL.

    .venv/bin/python -m bench.survey_throughput [--users 1 10 50] [--surveys 100] [--engines sqlite postgresql]

Each simulated respondent answers complete surveys one after another under a fresh identity; only the 32
answers of each survey are timed (not /start, the language menu or consent).
"""
from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import asyncpg

from bot.service import build
from bot.settings import Settings
from handlers.events import Inbound
from tests.survey_paths import FULL, opening

POSTGRES_DSN = os.environ.get("PIKIR_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")


async def respondent(service, surveys: int, latencies: list[float]) -> None:
    for _ in range(surveys):
        user = uuid.uuid4().hex
        for text in opening("ru"):
            await service.handle(Inbound("bench", user, uuid.uuid4().hex, text=text))
        for text in FULL:
            started = time.perf_counter()
            await service.handle(Inbound("bench", user, uuid.uuid4().hex, text=text))
            latencies.append(time.perf_counter() - started)


async def run(engine: str, users: int, surveys: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        env = {"PIKIR_DATA_DIR": tmp, "PIKIR_SECRET": "bench"}
        schema = None
        if engine == "sqlite":
            env["DATABASE_URL"] = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.sqlite3'}"
        else:
            schema = f"bench_{uuid.uuid4().hex[:10]}"
            admin = await asyncpg.connect(POSTGRES_DSN)
            await admin.execute(f'CREATE SCHEMA "{schema}"')
            env.update(DATABASE_URL=POSTGRES_DSN, PIKIR_DB_SCHEMA=schema)
        app = await build(Settings.from_env(env))
        try:
            latencies: list[float] = []
            per_user = max(1, surveys // users)
            started = time.perf_counter()
            await asyncio.gather(*(respondent(app.service, per_user, latencies) for _ in range(users)))
            elapsed = time.perf_counter() - started
            async with app.engine.connect() as connection:
                stored = (await connection.exec_driver_sql("SELECT count(*) FROM answers")).scalar()
        finally:
            await app.close()
            if schema:
                await admin.execute(f'DROP SCHEMA "{schema}" CASCADE')
                await admin.close()
    assert stored == len(latencies), (stored, len(latencies))
    latencies.sort()
    # The wall time includes the untimed opening messages, so answers/s is a conservative figure.
    return {
        "engine": engine,
        "users": users,
        "answers": len(latencies),
        "answers_per_s": len(latencies) / elapsed,
        "p50_ms": 1000 * statistics.median(latencies),
        "p99_ms": 1000 * latencies[int(0.99 * (len(latencies) - 1))],
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, nargs="+", default=[1, 10, 50])
    parser.add_argument("--surveys", type=int, default=100, help="complete surveys per configuration")
    parser.add_argument("--engines", nargs="+", default=["sqlite", "postgresql"])
    args = parser.parse_args()
    print(f"{'engine':<11} {'users':>5} {'answers':>8} {'answers/s':>10} {'p50 ms':>8} {'p99 ms':>8}")
    for engine in args.engines:
        for users in args.users:
            r = await run(engine, users, max(args.surveys, users))
            print(f"{r['engine']:<11} {r['users']:>5} {r['answers']:>8} {r['answers_per_s']:>10.0f} "
                  f"{r['p50_ms']:>8.2f} {r['p99_ms']:>8.2f}", flush=True)


if __name__ == "__main__":
    asyncio.run(main())

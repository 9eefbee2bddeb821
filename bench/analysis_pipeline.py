"""The research pipeline at scale: simulate N respondents, export them in every format, score them, re-run the
EFA. Each step runs as its own `python -m analysis …` process; wall time and peak memory (max RSS) per step.

    .venv/bin/python -m bench.analysis_pipeline [--n 100000] [--engine sqlite|postgresql] [--repeat 3]

With --repeat, every step after simulate runs that many times and the medians are printed (a shared machine
makes single runs noisy).
"""
from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import asyncpg

POSTGRES_DSN = os.environ.get("PIKIR_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")


def step(args: list[str], env: dict) -> tuple[float, float]:
    """Wall seconds and peak RSS in MB of one `python -m analysis` process."""
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "analysis", *args], env=env, stdout=subprocess.DEVNULL)
    _pid, status, usage = os.wait4(process.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"step failed: {' '.join(args)}")
    return time.perf_counter() - started, usage.ru_maxrss / 1024


async def schema(action: str, name: str) -> None:
    connection = await asyncpg.connect(POSTGRES_DSN)
    await connection.execute(f'{action} SCHEMA "{name}"' + (" CASCADE" if action == "DROP" else ""))
    await connection.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--engine", choices=["sqlite", "postgresql"], default="postgresql")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each step after simulate (medians)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        env = {**os.environ, "PIKIR_DATA_DIR": tmp, "PIKIR_SECRET": "bench"}
        name = None
        if args.engine == "postgresql":
            name = f"bench_{uuid.uuid4().hex[:10]}"
            asyncio.run(schema("CREATE", name))
            env.update(DATABASE_URL=POSTGRES_DSN, PIKIR_DB_SCHEMA=name)
        steps = [
            (f"simulate --n {args.n}", ["simulate", "--n", str(args.n), "--seed", "1"]),
            *[(f"export {fmt}", ["export", "--format", fmt, "--out", str(out / f"x.{fmt}")])
              for fmt in ("csv", "xlsx", "sav", "parquet")],
            ("scores", ["scores", "--out", str(out / "scores.csv")]),
            ("efa (16+21 items, 2 methods)", ["efa", "--json", str(out / "efa.json")]),
        ]
        try:
            print(f"{args.n} respondents on {args.engine}\n{'step':<32} {'seconds':>8} {'peak MB':>8}")
            total = 0.0
            for number, (label, argv) in enumerate(steps):
                runs = [step(argv, env) for _ in range(1 if number == 0 else max(1, args.repeat))]
                seconds, megabytes = (statistics.median(column) for column in zip(*runs))
                total += seconds
                print(f"{label:<32} {seconds:>8.1f} {megabytes:>8.0f}", flush=True)
            print(f"{'all steps, one after another':<32} {total:>8.1f}")
        finally:
            if name:
                asyncio.run(schema("DROP", name))


if __name__ == "__main__":
    main()

"""Answers per second through the Telegram Bot API emulator, Pikir (every answer committed) side by side with a
bare python-telegram-bot echo bot, in one run, and the ratio.

    .venv/bin/python -m bench.telegram_throughput [--users 50] [--rounds 3] [--engine sqlite|postgresql]

Each round starts a fresh emulator and one bot process, lets N users type a survey ahead (/start, language,
consent, then 32 answers: one reply each), and times until the bot has sent every reply. Rounds alternate
Pikir and echo, so drift in the machine's speed hits both alike; compare only figures of the same run.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import sys
import tempfile
import time
import uuid

import asyncpg

from tests.emulator.client import ensure_emulator_installed, start_emulator
from tests.survey_paths import FULL, opening

TOKEN = "720000001:PIKIR-bench"
POSTGRES_DSN = os.environ.get("PIKIR_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its reaped children so far, from /proc (Linux)."""
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return sum(int(v) for v in fields[11:15]) / TICKS


async def one_round(kind: str, users: int, engine: str) -> tuple[float, float, float]:
    """Messages per second, and the CPU seconds per 1,000 messages of the bot and of the emulator."""
    typed = opening("ru") + FULL
    with start_emulator() as emulator, tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "TELEGRAM_TOKEN": TOKEN, "TELEGRAM_API_URL": emulator.base_url,
               "PIKIR_DATA_DIR": tmp, "PIKIR_SECRET": "bench"}
        schema = None
        if kind == "pikir" and engine == "postgresql":
            schema = f"bench_{uuid.uuid4().hex[:10]}"
            admin = await asyncpg.connect(POSTGRES_DSN)
            await admin.execute(f'CREATE SCHEMA "{schema}"')
            env.update(DATABASE_URL=POSTGRES_DSN, PIKIR_DB_SCHEMA=schema)
        command = ["-m", "bot", "telegram"] if kind == "pikir" else ["-m", "bench.echo_bot"]
        proc = await asyncio.create_subprocess_exec(sys.executable, *command, env=env, start_new_session=True)
        people = [emulator.user(TOKEN, user_id=90_000 + i, language_code="ru") for i in range(users)]
        try:
            await people[0].send_command("help")  # warm-up: the bot is up and polling once this is answered
            while await people[0].bot_message_count() < 1:
                await asyncio.sleep(0.05)
            expected = 1 + users * len(typed)

            async def type_ahead(person):
                for text in typed:
                    await (person.send_command(text[1:]) if text.startswith("/") else person.send_text(text))

            started = time.perf_counter()
            cpu_bot, cpu_emulator = cpu_seconds(proc.pid), cpu_seconds(emulator.process.pid)
            await asyncio.gather(*(type_ahead(p) for p in people))
            while await people[0].bot_message_count() < expected:
                await asyncio.sleep(0.02)
            rate = (expected - 1) / (time.perf_counter() - started)
            per_k = 1000 / (expected - 1)
            return (rate, (cpu_seconds(proc.pid) - cpu_bot) * per_k,
                    (cpu_seconds(emulator.process.pid) - cpu_emulator) * per_k)
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            await proc.wait()
            for person in people:
                await person.aclose()
            if schema:
                await admin.execute(f'DROP SCHEMA "{schema}" CASCADE')
                await admin.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--engine", choices=["sqlite", "postgresql"], default="sqlite")
    args = parser.parse_args()
    ensure_emulator_installed()
    rates = {"pikir": [], "echo": []}
    for round_ in range(args.rounds):
        for kind in ("pikir", "echo"):
            rate, cpu_bot, cpu_emulator = await one_round(kind, args.users, args.engine)
            rates[kind].append(rate)
            print(f"round {round_ + 1}: {kind:<5} {rate:7.0f} messages/s; CPU s per 1,000 messages: "
                  f"bot {cpu_bot:.2f}, emulator {cpu_emulator:.2f}", flush=True)
    ratios = [p / e for p, e in zip(rates["pikir"], rates["echo"])]
    print(f"\n{args.users} users, {args.engine}: pikir median {statistics.median(rates['pikir']):.0f}/s, "
          f"echo median {statistics.median(rates['echo']):.0f}/s, ratio pikir/echo median {statistics.median(ratios):.2f} "
          f"(per round: {', '.join(f'{r:.2f}' for r in ratios)})")


if __name__ == "__main__":
    asyncio.run(main())

"""A bot process killed mid-survey and started again: the citizen continues at the same question."""
from __future__ import annotations

import asyncio
import os
import signal
import sys

from tests.conftest import stored_session
from tests.survey_paths import FULL, opening


class BotProcess:
    def __init__(self, env):
        self.env = {**os.environ, **env}
        self.output = ""

    async def start(self):
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "console", "--user", "citizen-7",
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
            env=self.env, start_new_session=True,
        )
        return self

    async def say(self, line: str, expect: str, timeout: float = 20):
        """Type a line and wait until the bot has printed `expect` in answer."""
        mark = len(self.output)
        self.proc.stdin.write((line + "\n").encode())
        await self.proc.stdin.drain()

        async def until_seen():
            while expect not in self.output[mark:]:
                chunk = await self.proc.stdout.read(4096)
                if not chunk:
                    raise AssertionError(f"bot exited; it printed:\n{self.output[-2000:]}")
                self.output += chunk.decode()

        await asyncio.wait_for(until_seen(), timeout)
        return self.output[mark:]

    def kill(self):
        os.killpg(self.proc.pid, signal.SIGKILL)


async def test_killed_mid_survey_and_restarted_continues_where_it_stopped(database, tmp_path, app):
    bot = await BotProcess(database.env(tmp_path)).start()
    await bot.say("/start", "Кыргызча")
    await bot.say("2", "1. Да, я участвую")
    await bot.say("1", "Вопрос 1 / 32")
    for answer, next_question in zip(FULL[:9], range(2, 11)):
        await bot.say(answer, f"Вопрос {next_question} / 32")
    bot.kill()
    await bot.proc.wait()

    bot = await BotProcess(database.env(tmp_path)).start()
    await bot.say("/start", "(вопрос 10 / 32)")
    screen = await bot.say("1", "Вопрос 10 / 32")
    assert "s5" not in screen and "В какой мере технологии" in screen
    await bot.say(FULL[9], "Вопрос 11 / 32")
    bot.proc.stdin.close()
    assert await asyncio.wait_for(bot.proc.wait(), 20) == 0  # ends cleanly at end of input

    session = await stored_session(app, "citizen-7")
    assert [q for q in session.answers] == ["q1", "q2", "q3", "q4", "q5", "s1", "s2", "s3", "s4", "s5"]
    async with app.engine.connect() as connection:
        assert (await connection.exec_driver_sql("SELECT count(*) FROM answers")).scalar() == 10
        assert (await connection.exec_driver_sql("SELECT count(*) FROM responses")).scalar() == 1

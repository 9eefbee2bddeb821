"""Delivery guarantees over Telegram: the webhook's secret header, redelivered updates, a SIGKILL mid-survey, and
200 users at once.

Where a test needs a redelivery or must send the secret header itself, it replays an update in the Bot API's
documented JSON shape straight to the webhook, as Telegram would after a failed delivery.
"""
from __future__ import annotations

import asyncio
import itertools
import os
import signal
import sys
import time

import httpx
import pytest

from bot.web import SECRET_HEADER, webhook_secret
from tests.conftest import stored_session
from tests.survey_paths import FULL
from tests.telegram.conftest import TOKEN, Citizen, WebhookBot, free_port
from tests.telegram.test_survey_over_telegram import begin, stored_answers

_update_ids = itertools.count(800_000)


def text_update(user_id: int, text: str, update_id: int | None = None) -> dict:
    """A Telegram update carrying a text message, in the Bot API's documented shape."""
    person = {"id": user_id, "is_bot": False, "first_name": "Айгерім", "language_code": "ru"}
    message = {"message_id": next(_update_ids), "date": int(time.time()), "text": text, "from": person,
               "chat": {"id": user_id, "type": "private", "first_name": "Айгерім"}}
    return {"update_id": update_id or next(_update_ids), "message": message}


@pytest.fixture
async def webhook_bot(telegram_settings):
    bot = await WebhookBot(telegram_settings).start()
    yield bot
    await bot.stop()


async def test_webhook_without_the_secret_header_is_refused_and_changes_nothing(webhook_bot, emulator):
    citizen = Citizen(emulator.user(TOKEN, user_id=6001, language_code="ru"))
    await begin(citizen, "ru")
    async with httpx.AsyncClient() as http:
        bare = await http.post(webhook_bot.url, json=text_update(6001, "2"))
        wrong = await http.post(webhook_bot.url, json=text_update(6001, "2"), headers={SECRET_HEADER: "guess"})
        right = await http.post(webhook_bot.url, json=text_update(6001, "3"),
                                headers={SECRET_HEADER: webhook_secret(webhook_bot.settings)})
    assert (bare.status_code, wrong.status_code, right.status_code) == (403, 403, 200)
    assert await stored_answers(webhook_bot, 6001) == {"q1": ("3",)}


async def test_a_replayed_update_is_not_counted_twice(webhook_bot, emulator):
    citizen = Citizen(emulator.user(TOKEN, user_id=6002, language_code="ru"))
    await begin(citizen, "ru")
    update = text_update(6002, "2")
    headers = {SECRET_HEADER: webhook_secret(webhook_bot.settings)}
    async with httpx.AsyncClient() as http:
        first = await http.post(webhook_bot.url, json=update, headers=headers)
        again = await http.post(webhook_bot.url, json=update, headers=headers)  # Telegram retrying
    assert first.status_code == again.status_code == 200
    assert await stored_answers(webhook_bot, 6002) == {"q1": ("2",)}  # the "2" did not also answer q2
    q2 = await citizen.question()
    assert q2.text.startswith("Вопрос 2 / 32")


class BotProcess:
    """`python -m bot telegram` or `python -m bot serve` as its own process, so it can be SIGKILLed."""

    def __init__(self, mode: str, env: dict[str, str], port: int):
        self.mode, self.port = mode, port
        self.env = {**os.environ, **env}
        if mode == "webhook":
            self.env["TELEGRAM_WEBHOOK_URL"] = f"http://127.0.0.1:{port}/telegram/webhook"

    async def start(self):
        args = ["telegram"] if self.mode == "polling" else ["serve", "--port", str(self.port)]
        self.proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", *args, env=self.env,
                                                         start_new_session=True)
        return self

    def kill(self):
        os.killpg(self.proc.pid, signal.SIGKILL)


async def post_until_up(url: str, update: dict, headers: dict) -> httpx.Response:
    async with httpx.AsyncClient() as http:
        for _ in range(200):  # a (re)started server may still be starting
            try:
                return await http.post(url, json=update, headers=headers)
            except httpx.ConnectError:
                await asyncio.sleep(0.1)
    raise AssertionError(f"{url} never came up")


@pytest.mark.parametrize("mode", ["polling", "webhook"])
async def test_killed_mid_survey_the_bot_resumes_at_the_same_question(mode, database, tmp_path, emulator, app):
    env = {**database.env(tmp_path), "TELEGRAM_TOKEN": TOKEN, "TELEGRAM_API_URL": emulator.base_url}
    port = free_port()
    url, headers = f"http://127.0.0.1:{port}/telegram/webhook", {SECRET_HEADER: webhook_secret(app.settings)}
    bot = await BotProcess(mode, env, port).start()
    citizen = Citizen(emulator.user(TOKEN, user_id=6003, language_code="ky"))
    await begin(citizen, "ky")
    for answer in FULL[:8]:
        await citizen.answer(answer)
    s4 = text_update(6003, "4")
    if mode == "webhook":  # s4 arrives and is committed; then the process dies before Telegram hears back
        assert (await post_until_up(url, s4, headers)).status_code == 200
        await citizen.user.wait_for_text("10 / 32 суроо")
    bot.kill()
    await bot.proc.wait()

    bot = await BotProcess(mode, env, port).start()
    try:
        if mode == "webhook":  # so Telegram delivers the same update again, to the restarted bot
            assert (await post_until_up(url, s4, headers)).status_code == 200
            screen = await citizen.question()
            assert screen.text.startswith("10 / 32 суроо")  # still s5: the redelivered "4" was not applied again
        else:
            screen = await citizen.question()
            assert screen.text.startswith("9 / 32 суроо")  # the question asked before the kill
            await citizen.answer("4")
        for answer in FULL[9:12]:
            screen = await citizen.answer(answer)
        assert screen.text.startswith("13 / 32 суроо")
    finally:
        bot.kill()
        await bot.proc.wait()
    session = await stored_session(app, "6003", channel="telegram")
    expected = ["q1", "q2", "q3", "q4", "q5", "s1", "s2", "s3", "s4", "s5", "s6", "s7"]
    assert list(session.answers) == expected and session.answers["s4"].codes == ("4",)
    assert session.answers["s5"].codes == (FULL[9],)
    async with app.engine.connect() as connection:
        assert (await connection.exec_driver_sql("SELECT count(*) FROM answers")).scalar() == 12


async def test_two_hundred_users_at_once_each_in_order(emulator, telegram_settings):
    """Every user types ahead without waiting for replies; their answers must still land in order."""
    from tests.telegram.conftest import PollingBot

    bot = await PollingBot(telegram_settings).start()
    typed = ["/start", "2", "1", *FULL[:10]]
    expected = {q: tuple(a.split(",")) for q, a in zip(["q1", "q2", "q3", "q4", "q5", "s1", "s2", "s3", "s4", "s5"], FULL)}
    users = [emulator.user(TOKEN, user_id=70_000 + i, language_code="ru") for i in range(200)]
    try:
        async def type_ahead(user):
            for text in typed:
                await (user.send_command(text[1:]) if text.startswith("/") else user.send_text(text))

        await asyncio.gather(*(type_ahead(u) for u in users))
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            async with bot.app.engine.connect() as connection:
                stored = (await connection.exec_driver_sql("SELECT count(*) FROM answers")).scalar()
            if stored >= 10 * len(users):
                break
            await asyncio.sleep(0.5)
        done = [await stored_answers(bot, u.user_id) for u in users]
        assert all(d == expected for d in done), [d for d in done if d != expected][:3]
    finally:
        await bot.stop()
        for user in users:
            await user.aclose()

"""The bot against the Telegram Bot API emulator (tests/emulator), in polling or webhook mode, on both databases."""
from __future__ import annotations

import asyncio
import datetime as dt
import shutil
import socket

import pytest
import uvicorn

from bot.service import build
from bot.settings import Settings
from bot.telegram import builder, connect
from bot.web import create_app
from tests.emulator.client import BotMessage, ensure_emulator_installed, start_emulator

TOKEN = "710000001:PIKIR-test-token"

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def emulator():
    ensure_emulator_installed()
    with start_emulator() as emulator:
        yield emulator


class PollingBot:
    mode = "polling"

    def __init__(self, settings: Settings):
        self.settings = settings

    async def start(self):
        self.app = await build(self.settings)
        self.application = builder(self.settings).build()
        await self.application.initialize()
        self.channel = await connect(self.application, self.app)  # as polling_application's post_init does
        await self.application.start()
        await self.application.updater.start_polling(poll_interval=0.0, timeout=dt.timedelta(seconds=1))
        return self

    async def stop(self):
        await self.application.updater.stop()
        await self.application.stop()
        await self.application.shutdown()
        await self.app.close()


class WebhookBot:
    """`python -m bot serve` in process: uvicorn serving the ASGI app, which sets its webhook on start."""

    mode = "webhook"

    def __init__(self, settings: Settings):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/telegram/webhook"
        self.settings = Settings(**{**settings.__dict__, "telegram_webhook_url": self.url})

    async def start(self):
        self.asgi = create_app(self.settings)
        config = uvicorn.Config(self.asgi, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on")
        self.server = uvicorn.Server(config)
        self.task = asyncio.create_task(self.server.serve())
        while not self.server.started:
            if self.task.done():
                self.task.result()
            await asyncio.sleep(0.02)
        self.app = self.asgi.state.pikir
        self.channel = None  # inside the ASGI app; tests reach the bot through the emulator
        return self

    async def stop(self):
        self.server.should_exit = True
        await self.task


@pytest.fixture
def telegram_settings(database, tmp_path, emulator) -> Settings:
    env = {**database.env(tmp_path), "TELEGRAM_TOKEN": TOKEN, "TELEGRAM_API_URL": emulator.base_url}
    return Settings.from_env(env)


@pytest.fixture(params=["polling", "webhook"])
async def telegram_bot(request, telegram_settings):
    bot = await (PollingBot if request.param == "polling" else WebhookBot)(telegram_settings).start()
    yield bot
    await bot.stop()


class Citizen:
    """A Telegram user who answers by tapping the bot's inline buttons."""

    def __init__(self, user):
        self.user = user

    async def question(self, timeout: float = 10) -> BotMessage:
        """The newest bot message that has buttons (the open question)."""
        return await self.user.wait_for(lambda m: bool(m.buttons), timeout=timeout, fresh=False)

    async def tap(self, key: str, message: BotMessage | None = None) -> dict:
        message = message or await self.question()
        data = next((d for _, d in message.flat_buttons if d and d.endswith(f"|{key}")), None)
        assert data is not None, f"no button {key!r} on {message.text[:60]!r}: {message.flat_buttons}"
        return await self.user.tap(data, message)

    async def answer(self, answer: str) -> BotMessage:
        """Tap the options of `answer` ("2", or "1,3,5" for a multi-select then Done); returns the next screen."""
        message = await self.question()
        keys = answer.split(",")
        if any(d.endswith("|done") for _, d in message.flat_buttons):
            for key in keys:
                await self.tap(key, message)
                message = await self.user.wait_for(lambda m, mid=message.message_id: m.message_id == mid)
            keys = ["done"]
        await self.tap(keys[0], message)
        return await self.user.wait_for(lambda m: m.message_id != message.message_id)

    async def last_callback_answer(self, timeout: float = 10) -> str | None:
        for _ in range(int(timeout / 0.05)):
            queries = await self.user.callback_queries()
            if queries and queries[-1]["answer"] is not None:
                return queries[-1]["answer"].get("text")
            await asyncio.sleep(0.05)
        raise AssertionError("the bot did not answer the callback query")

"""The Telegram emulator harness works against a real python-telegram-bot v22 bot.

Each test starts its own launcher (node, ~0.2 s) on a free port, so tests share no state.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import shutil
import time
from typing import Any

import httpx
import pytest
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllPrivateChats,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
)
from telegram.constants import ChatAction
from telegram.error import BadRequest, EndPointNotFound
from telegram.ext import (
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from .client import BotMessage, Emulator, EmulatorError, start_emulator

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")

TOKEN = "123456:TEST-harness-token"


@pytest.fixture
def emulator() -> Any:
    with start_emulator() as running:
        yield running


@pytest.fixture
async def api(emulator: Emulator) -> Any:
    """Raw Bot API access for TOKEN, bypassing python-telegram-bot."""
    async with httpx.AsyncClient(base_url=f"{emulator.bot_api_url}{TOKEN}", timeout=10) as client:
        yield client


async def call(api: httpx.AsyncClient, method: str, **params: Any) -> tuple[int, dict[str, Any]]:
    """POST a form-encoded Bot API call (non-strings JSON-encoded, as python-telegram-bot does)."""
    data = {k: v if isinstance(v, str) else json.dumps(v) for k, v in params.items()}
    response = await api.post(f"/{method}", data=data)
    return response.status_code, response.json()


async def ok(api: httpx.AsyncClient, method: str, **params: Any) -> Any:
    status, body = await call(api, method, **params)
    assert status == 200 and body["ok"] is True, (method, status, body)
    return body["result"]


async def eventually(check: Any, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


def texts(updates: list[dict[str, Any]]) -> list[str]:
    return [update["message"]["text"] for update in updates]


async def test_ptb_polling_bot_replies_with_a_keyboard_and_edits_on_tap(emulator: Emulator) -> None:
    seen: dict[str, Any] = {}
    errors: list[BaseException] = []

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        name = update.effective_user.first_name
        await update.message.reply_text(f"Hello, <b>{name}</b> &amp; welcome!", parse_mode="HTML")

    async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert await context.bot.send_chat_action(update.effective_chat.id, ChatAction.TYPING)
        keyboard = InlineKeyboardMarkup(
            [[InlineKeyboardButton("Yes", callback_data="like:yes"), InlineKeyboardButton("No", callback_data="like:no")]]
        )
        seen["sent"] = await update.message.reply_text("Do you like your city?", reply_markup=keyboard)

    async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        seen["chat_instance"] = query.chat_instance
        assert await query.answer("Thanks!") is True
        seen["edited"] = await query.edit_message_text(f"You chose {query.data}")

    async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        errors.append(context.error)

    app = ApplicationBuilder().token(TOKEN).base_url(emulator.bot_api_url).build()
    app.add_handler(CommandHandler("start", start))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, on_text))
    app.add_handler(CallbackQueryHandler(on_button))
    app.add_error_handler(on_error)

    await app.initialize()  # getMe: fails without is_bot
    await app.start()
    await app.updater.start_polling(poll_interval=0.0, timeout=dt.timedelta(seconds=5))
    try:
        async with emulator.user(TOKEN, user_id=1001, first_name="Aigerim") as user:
            await user.send_command("/start")
            hello = await user.wait_for_text("Hello")
            assert hello.text == "Hello, Aigerim & welcome!"

            await user.send_text("hi")
            question = await user.wait_for(lambda m: bool(m.buttons))
            assert question.text == "Do you like your city?"
            assert question.buttons == [[("Yes", "like:yes"), ("No", "like:no")]]

            await user.tap_button("Yes")
            edited = await user.wait_for(lambda m: m.message_id == question.message_id)
            assert edited.text == "You chose like:yes"
            assert edited.edited and edited.buttons == []  # an edit without reply_markup drops it

            assert await user.unanswered_callbacks() == []
            [tap] = await user.callback_queries()
            assert tap["data"] == "like:yes" and tap["answer"]["text"] == "Thanks!"
            # the old keyboard is gone, so its buttons cannot be tapped any more
            with pytest.raises(EmulatorError, match="no button"):
                await user.tap("like:no", question)
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()

    assert errors == []
    assert seen["chat_instance"]
    assert isinstance(seen["edited"], Message) and seen["edited"].text == "You chose like:yes"
    age = dt.datetime.now(dt.timezone.utc) - seen["sent"].date  # seconds, not milliseconds
    assert abs(age.total_seconds()) < 60
    # stopping the updater confirmed everything it fetched (getUpdates with the last offset)
    async with httpx.AsyncClient(base_url=f"{emulator.bot_api_url}{TOKEN}") as api:
        assert await ok(api, "getUpdates") == []


async def test_get_updates_returns_updates_until_an_offset_confirms_them(
    emulator: Emulator, api: httpx.AsyncClient
) -> None:
    async with emulator.user(TOKEN) as user:
        for text in ("one", "two", "three"):
            await user.send_text(text)

        first = await ok(api, "getUpdates")
        assert texts(first) == ["one", "two", "three"]
        ids = [update["update_id"] for update in first]
        assert ids == sorted(ids)
        assert await ok(api, "getUpdates") == first  # fetched but unconfirmed: returned again

        assert texts(await ok(api, "getUpdates", offset=ids[0] + 1)) == ["two", "three"]
        assert texts(await ok(api, "getUpdates")) == ["two", "three"]  # "one" is confirmed for good
        assert texts(await ok(api, "getUpdates", limit=1)) == ["two"]
        assert await ok(api, "getUpdates", offset=ids[-1] + 1) == []
        assert await ok(api, "getUpdates") == []

        for text in ("four", "five", "six"):
            await user.send_text(text)
        assert texts(await ok(api, "getUpdates", offset=-1)) == ["six"]  # the rest is forgotten
        assert texts(await ok(api, "getUpdates")) == ["six"]


async def test_get_updates_long_polls_for_timeout_seconds(emulator: Emulator, api: httpx.AsyncClient) -> None:
    started = time.monotonic()
    assert await ok(api, "getUpdates", timeout=1) == []
    assert 0.9 <= time.monotonic() - started < 3

    waiting = asyncio.create_task(ok(api, "getUpdates", timeout=5))
    await asyncio.sleep(0.3)
    assert not waiting.done()
    async with emulator.user(TOKEN) as user:
        sent_at = time.monotonic()
        await user.send_text("wake up")
    assert texts(await asyncio.wait_for(waiting, 2)) == ["wake up"]
    assert time.monotonic() - sent_at < 1


async def test_a_second_long_poll_ends_the_first_with_409(emulator: Emulator, api: httpx.AsyncClient) -> None:
    older = asyncio.create_task(call(api, "getUpdates", timeout=5))
    await asyncio.sleep(0.2)
    newer = asyncio.create_task(call(api, "getUpdates", timeout=1))
    status, body = await asyncio.wait_for(older, 2)
    assert status == 409 and "terminated by other getUpdates request" in body["description"]
    assert await newer == (200, {"ok": True, "result": []})


class WebhookReceiver:
    """A minimal HTTP server recording webhook calls; answers with scripted statuses, then 200."""

    def __init__(self, statuses: list[int]) -> None:
        self.statuses = list(statuses)
        self.calls: list[dict[str, Any]] = []

    async def __aenter__(self) -> WebhookReceiver:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}/hook"
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self.server.close()
        await self.server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
            headers = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in head[1:] if h)}
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            status = self.statuses.pop(0) if self.statuses else 200
            self.calls.append({"headers": headers, "update": json.loads(body), "status": status})
            writer.write(f"HTTP/1.1 {status} Scripted\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".encode())
            await writer.drain()
        finally:
            writer.close()

    async def wait_calls(self, count: int) -> list[dict[str, Any]]:
        async def arrived() -> bool:
            return len(self.calls) >= count

        await eventually(arrived)
        return self.calls


async def test_webhook_gets_secret_token_header_and_is_retried_after_500(
    emulator: Emulator, api: httpx.AsyncClient
) -> None:
    secret = "s3cret_TOKEN-1"
    async with WebhookReceiver([500]) as receiver, emulator.user(TOKEN) as user:
        status, body = await call(api, "setWebhook", url=receiver.url, secret_token="not allowed!")
        assert status == 400, body
        assert await ok(api, "setWebhook", url=receiver.url, secret_token=secret) is True
        assert (await ok(api, "getWebhookInfo"))["url"] == receiver.url
        status, body = await call(api, "getUpdates")
        assert status == 409 and "webhook is active" in body["description"]

        await user.send_text("via webhook")
        failed, redelivered = await receiver.wait_calls(2)
        assert (failed["status"], redelivered["status"]) == (500, 200)
        assert failed["update"] == redelivered["update"]
        assert failed["update"]["message"]["text"] == "via webhook"
        for delivery in (failed, redelivered):
            assert delivery["headers"]["x-telegram-bot-api-secret-token"] == secret
            assert delivery["headers"]["content-type"].startswith("application/json")

        async def confirmed() -> bool:
            return (await ok(api, "getWebhookInfo"))["pending_update_count"] == 0

        await eventually(confirmed)
        assert "500" in (await ok(api, "getWebhookInfo"))["last_error_message"]

        await user.send_text("second")
        calls = await receiver.wait_calls(3)
        assert calls[2]["update"]["message"]["text"] == "second"
        assert calls[2]["update"]["update_id"] > failed["update"]["update_id"]
        await asyncio.sleep(0.3)
        assert len(receiver.calls) == 3  # a 2xx answer is never redelivered

        assert await ok(api, "deleteWebhook") is True
        assert (await ok(api, "getWebhookInfo"))["url"] == ""
        await user.send_text("polled again")
        assert texts(await ok(api, "getUpdates")) == ["polled again"]


async def test_my_commands_are_kept_per_scope_and_language(emulator: Emulator) -> None:
    async with Bot(TOKEN, base_url=emulator.bot_api_url) as bot:
        assert bot.id == 123456 and bot.username == "TestNameBot"
        ru = [BotCommand("start", "Начать опрос"), BotCommand("help", "Помощь")]
        assert await bot.set_my_commands(ru, language_code="ru") is True
        assert await bot.get_my_commands(language_code="ru") == tuple(ru)
        assert await bot.get_my_commands() == ()  # the default scope/language is separate

        private = BotCommandScopeAllPrivateChats()
        assert await bot.set_my_commands([BotCommand("survey", "Survey")], scope=private) is True
        assert [c.command for c in await bot.get_my_commands(scope=private)] == ["survey"]

        assert await bot.delete_my_commands(language_code="ru") is True
        assert await bot.get_my_commands(language_code="ru") == ()
        with pytest.raises(BadRequest, match="(?i)BOT_COMMAND_INVALID"):
            await bot.set_my_commands([BotCommand("Not-Valid", "x")])


async def test_bot_methods_answer_like_telegram(emulator: Emulator, api: httpx.AsyncClient) -> None:
    async with Bot(TOKEN, base_url=emulator.bot_api_url) as bot, emulator.user(TOKEN, user_id=2002) as user:
        await user.send_text("hello")
        chat = user.chat_id
        keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("A", callback_data="a")]])
        sent = await bot.send_message(chat, "Pick one", reply_markup=keyboard)
        assert sent.from_user.is_bot and sent.chat.id == chat
        assert abs((dt.datetime.now(dt.timezone.utc) - sent.date).total_seconds()) < 60
        assert sent.reply_markup == keyboard

        edited = await bot.edit_message_reply_markup(chat, sent.message_id, reply_markup=None)
        assert isinstance(edited, Message) and edited.reply_markup is None and edited.edit_date
        with pytest.raises(BadRequest, match="(?i)message is not modified"):
            await bot.edit_message_reply_markup(chat, sent.message_id, reply_markup=None)
        with pytest.raises(BadRequest, match="(?i)message to edit not found"):
            await bot.edit_message_text("x", chat, 987654)

        photo = await bot.send_photo(chat, photo=b"\x89PNG not really", caption="Complaints map")
        assert photo.caption == "Complaints map" and photo.photo[-1].file_id
        again = await bot.send_photo(chat, photo=photo.photo[-1].file_id)  # resend by file_id
        assert again.photo[-1].file_id == photo.photo[-1].file_id
        doc = await bot.send_document(chat, document=b"a,b\n1,2\n", filename="report.csv")
        assert doc.document.file_name == "report.csv"
        where = await bot.send_location(chat, 42.8746, 74.5698)
        assert where.location.latitude == pytest.approx(42.8746)

        shown = await user.bot_messages()
        assert [m.message_id for m in shown] == [sent.message_id, photo.message_id, again.message_id, doc.message_id, where.message_id]
        assert shown[1].text == "Complaints map" and "location" in shown[-1].raw

        with pytest.raises(BadRequest, match="(?i)query ID is invalid"):
            await bot.answer_callback_query("999")
        with pytest.raises(BadRequest, match="(?i)can't parse entities"):
            await bot.send_message(chat, "<div>no</div>", parse_mode="HTML")
        with pytest.raises(BadRequest, match="(?i)BUTTON_DATA_INVALID"):
            too_long = InlineKeyboardMarkup([[InlineKeyboardButton("x", callback_data="x" * 65)]])
            await bot.send_message(chat, "too long", reply_markup=too_long)
        with pytest.raises(EndPointNotFound):  # Telegram answers unknown methods with 404
            await bot.do_api_request("notAMethod")
        assert (await ok(api, "getMe"))["is_bot"] is True

        with pytest.raises(EmulatorError, match="no bot message has a button"):
            await user.tap("nothing")
        with pytest.raises(AssertionError, match="no matching bot message"):
            await user.wait_for(lambda m: False, timeout=0.2)


async def test_poll_votes_reach_the_bot(emulator: Emulator) -> None:
    async with Bot(TOKEN, base_url=emulator.bot_api_url) as bot, emulator.user(TOKEN, user_id=3003) as user:
        await user.send_text("hi")
        [greeting] = await bot.get_updates()
        sent = await bot.send_poll(user.chat_id, "Is the bus on time?", ["Yes", "No", "Sometimes"], is_anonymous=False)
        assert [o.text for o in sent.poll.options] == ["Yes", "No", "Sometimes"]

        await user.vote(sent.message_id, [2])
        updates = await bot.get_updates(offset=greeting.update_id + 1)
        [answer] = [u.poll_answer for u in updates if u.poll_answer]
        assert answer.option_ids == (2,) and answer.user.id == 3003 and answer.poll_id == sent.poll.id
        [state] = [u.poll for u in updates if u.poll]
        assert [o.voter_count for o in state.options] == [0, 0, 1]

        stopped = await bot.stop_poll(user.chat_id, sent.message_id)
        assert stopped.is_closed and stopped.total_voter_count == 1
        with pytest.raises(EmulatorError, match="closed"):
            await user.vote(sent.message_id, [0])
        [shown] = [m for m in await user.bot_messages() if "poll" in m.raw]
        assert isinstance(shown, BotMessage) and shown.raw["poll"]["is_closed"] is True


def test_start_emulator_stops_the_launcher() -> None:
    with start_emulator() as running:
        assert httpx.get(f"{running.bot_api_url}{TOKEN}/getMe").json()["ok"] is True
    assert running.process.poll() is not None

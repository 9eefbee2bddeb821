"""The emulator's media extensions: users sending photos, documents, videos and locations; getFile and file
downloads the Bot API way; reply keyboards with a request_location button; photos a bot sends.

Each test starts its own launcher (node, ~0.2 s) on a free port, so tests share no state.
"""

from __future__ import annotations

import shutil
from typing import Any

import httpx
import pytest
from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)
from telegram.error import BadRequest

from .client import Emulator, EmulatorError, start_emulator

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")

TOKEN = "123456:TEST-media-token"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 40  # a JPEG header and 10 KB of body
MB = 1024 * 1024


@pytest.fixture
def emulator() -> Any:
    with start_emulator() as running:
        yield running


async def test_a_photo_arrives_in_several_sizes_and_the_largest_downloads_as_sent(emulator: Emulator) -> None:
    async with Bot(TOKEN, base_url=emulator.bot_api_url, base_file_url=emulator.bot_file_url) as bot, \
            emulator.user(TOKEN, user_id=4001) as user:
        sent = await user.send_photo(JPEG, caption="Pothole on Abay", width=1600, height=1200)
        [update] = await bot.get_updates()
        message = update.message
        assert message.caption == "Pothole on Abay" and message.text is None
        assert [(p.width, p.height) for p in message.photo] == [(90, 68), (320, 240), (800, 600), (1600, 1200)]
        assert message.photo[-1].file_size == len(JPEG) == sent["photo"][-1]["file_size"]
        assert len({p.file_id for p in message.photo}) == len({p.file_unique_id for p in message.photo}) == 4

        assert await user.file_requests() == []  # nothing fetched until the bot asks
        largest = await bot.get_file(message.photo[-1].file_id)
        assert largest.file_size == len(JPEG) and largest.file_path.endswith(".jpg")
        assert largest.file_path.startswith(f"{emulator.bot_file_url}{TOKEN}/photos/")  # PTB prefixes the URL
        assert bytes(await largest.download_as_bytearray()) == JPEG
        thumbnail = await bot.get_file(message.photo[0].file_id)
        assert JPEG.startswith(bytes(await thumbnail.download_as_bytearray())) and thumbnail.file_size < len(JPEG)

        requests = await user.file_requests()
        assert [(r["method"], r["file_id"]) for r in requests] == [
            ("getFile", message.photo[-1].file_id), ("download", message.photo[-1].file_id),
            ("getFile", message.photo[0].file_id), ("download", message.photo[0].file_id),
        ]
        assert await user.file_bytes(message.photo[-1].file_id) == JPEG


async def test_a_declared_size_has_no_bytes_and_big_files_are_refused_as_telegram_does(emulator: Emulator) -> None:
    async with Bot(TOKEN, base_url=emulator.bot_api_url, base_file_url=emulator.bot_file_url) as bot, \
            emulator.user(TOKEN, user_id=4002) as user:
        await user.send_photo(12 * MB)
        await user.send_document(25 * MB, mime_type="image/png", file_name="scan.png")
        first, second = await bot.get_updates()
        assert first.message.photo[-1].file_size == 12 * MB
        document = second.message.document
        assert (document.file_size, document.mime_type, document.file_name) == (25 * MB, "image/png", "scan.png")
        assert await user.file_requests() == []

        twelve = await bot.get_file(first.message.photo[-1].file_id)  # up to 20 MB a bot may ask for it
        async with httpx.AsyncClient() as http:
            assert (await http.get(twelve.file_path)).status_code == 404  # but the harness keeps no bytes
            assert (await http.get(f"{emulator.bot_file_url}{TOKEN}/photos/nothing.jpg")).status_code == 404
        with pytest.raises(BadRequest, match="(?i)file is too big"):
            await bot.get_file(document.file_id)
        with pytest.raises(BadRequest, match="(?i)invalid file_id"):
            await bot.get_file("no-such-file")
        assert [r["method"] for r in await user.file_requests()] == ["getFile", "download", "download", "getFile"]


async def test_documents_videos_stickers_and_locations_arrive_as_telegram_shapes_them(emulator: Emulator) -> None:
    async with Bot(TOKEN, base_url=emulator.bot_api_url, base_file_url=emulator.bot_file_url) as bot, \
            emulator.user(TOKEN, user_id=4003) as user:
        await user.send_document(b"\x89PNG\r\n\x1a\nrest", "a scan", mime_type="image/png", file_name="scan.png")
        await user.send_video(b"\x00\x00\x00\x18ftypmp42", duration=3)
        await user.send_media("animation", b"GIF89a...")
        await user.send_media("sticker", b"RIFF....WEBP")
        await user.send_media("voice", 2048)
        await user.send_location(43.2380, 76.9450)
        updates = await bot.get_updates()
        doc, video, animation, sticker, voice, where = (u.message for u in updates)

        assert doc.caption == "a scan" and doc.document.mime_type == "image/png" and doc.document.file_size == 12
        assert bytes(await (await bot.get_file(doc.document.file_id)).download_as_bytearray()).startswith(b"\x89PNG")
        assert video.video.mime_type == "video/mp4" and video.to_dict()["video"]["duration"] == 3
        assert animation.animation.file_id == animation.document.file_id  # Telegram sets both for animations
        assert sticker.sticker.type == "regular" and sticker.sticker.width == 640
        assert voice.voice.file_size == 2048 and voice.voice.mime_type == "audio/ogg"
        assert (where.location.latitude, where.location.longitude) == (43.2380, 76.9450)
        assert all(m.text is None for m in (doc, video, animation, sticker, voice, where))
        with pytest.raises(EmulatorError, match="unknown media kind"):
            await user.send_media("hologram", b"x")


async def test_a_request_location_keyboard_is_shown_until_removed(emulator: Emulator) -> None:
    async with Bot(TOKEN, base_url=emulator.bot_api_url) as bot, emulator.user(TOKEN, user_id=4004) as user:
        chat = user.chat_id
        assert await user.reply_keyboard() is None
        with pytest.raises(EmulatorError, match="request_location"):
            await user.share_location(43.2, 76.9)

        keyboard = ReplyKeyboardMarkup([[KeyboardButton("📍 Send my location", request_location=True)]],
                                       resize_keyboard=True, one_time_keyboard=True)
        asked = await bot.send_message(chat, "Where is it?", reply_markup=keyboard)
        assert asked.reply_markup is None  # Telegram echoes only inline keyboards
        await bot.send_message(chat, "Or:", reply_markup=InlineKeyboardMarkup(
            [[InlineKeyboardButton("Cancel", callback_data="cancel")]]))
        shown = await user.reply_keyboard()  # an inline keyboard leaves the reply keyboard in place
        assert shown.message_id == asked.message_id and shown.location_button == "📍 Send my location"
        assert shown.keyboard == [["📍 Send my location"]] and shown.raw["sent_markup"]["one_time_keyboard"]
        await user.share_location(43.2, 76.9)
        [update] = await bot.get_updates()
        assert update.message.location.latitude == pytest.approx(43.2)

        with pytest.raises(BadRequest, match="(?i)only carry an inline keyboard"):
            await bot.edit_message_text("Where?", chat, asked.message_id, reply_markup=keyboard)
        with pytest.raises(BadRequest, match="(?i)button text must be non-empty"):
            await bot.send_message(chat, "bad", reply_markup=ReplyKeyboardMarkup([[KeyboardButton(" ")]]))

        removed = await bot.send_message(chat, "Thanks", reply_markup=ReplyKeyboardRemove())
        assert await user.reply_keyboard() is None
        [last] = [m for m in await user.bot_messages() if m.message_id == removed.message_id]
        assert last.removes_keyboard and last.keyboard == []


async def test_a_photo_the_bot_uploads_is_shown_with_its_caption_and_bytes(emulator: Emulator) -> None:
    async with Bot(TOKEN, base_url=emulator.bot_api_url, base_file_url=emulator.bot_file_url) as bot, \
            emulator.user(TOKEN, user_id=4005) as user:
        buttons = InlineKeyboardMarkup([[InlineKeyboardButton("Send", callback_data="s")]])
        sent = await bot.send_photo(user.chat_id, photo=JPEG, caption="Your report", reply_markup=buttons)
        [shown] = await user.bot_messages()
        assert shown.caption == shown.text == "Your report" and shown.buttons == [[("Send", "s")]]
        assert shown.photo["file_id"] == sent.photo[-1].file_id and shown.photo["file_size"] == len(JPEG)
        assert await user.file_bytes(shown.photo["file_id"]) == JPEG
        again = await bot.get_file(sent.photo[-1].file_id)  # a bot can fetch what it uploaded
        assert bytes(await again.download_as_bytearray()) == JPEG
        with pytest.raises(BadRequest, match="(?i)caption is too long"):
            await bot.send_photo(user.chat_id, photo=sent.photo[-1].file_id, caption="x" * 1025)

"""The Telegram adapter and files, locations and location requests, without the complaint flow.

Inbound: what a user sends reaches the service as the normalised event, with a photo already in the file store
(or, above 10 MB, never downloaded). Outbound: a message that wants a location shows a request_location button,
which the next message takes down, and a message with a photo goes out with sendPhoto.
"""
from __future__ import annotations

import asyncio

import pytest

from handlers.events import EDIT, Attachment, Choice, Location, Outbound
from handlers.i18n import gettext_for
from tests.telegram.conftest import TOKEN, PollingBot

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01" + bytes(range(256)) * 64  # a JPEG's first bytes, then 16 KB
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 2048
MB = 1024 * 1024


@pytest.fixture
def events(telegram_bot):
    """Every event the service is handed, recorded on the way in (the same service object in both modes)."""
    service = telegram_bot.app.service
    seen, handle = [], service.handle

    async def recording(event):
        seen.append(event)
        return await handle(event)

    service.handle = recording
    return seen


async def next_event(events: list, count: int, timeout: float = 10):
    for _ in range(int(timeout / 0.02)):
        if len(events) >= count:
            return events[count - 1]
        await asyncio.sleep(0.02)
    raise AssertionError(f"the service got {len(events)} events, not {count}")


async def test_a_photo_is_in_the_file_store_before_the_service_sees_it(telegram_bot, events, emulator):
    user = emulator.user(TOKEN, user_id=7001, language_code="kk")
    sent = await user.send_photo(JPEG, caption="Шұңқыр")
    event = await next_event(events, 1)
    assert event.attachment == Attachment("photo", size=len(JPEG), mime="image/jpeg", stored=event.attachment.stored)
    assert event.text == "Шұңқыр" and event.location is None
    assert telegram_bot.app.files.read(event.attachment.stored) == JPEG
    largest = sent["photo"][-1]["file_id"]  # only the largest size is fetched, once
    fetched = [(r["method"], r["file_id"]) for r in await user.file_requests()]
    assert fetched == [("getFile", largest), ("download", largest)]


async def test_files_other_than_photos_arrive_described_and_a_12_mb_photo_is_never_downloaded(
    telegram_bot, events, emulator
):
    user = emulator.user(TOKEN, user_id=7002, language_code="ru")
    await user.send_photo(12 * MB)
    await user.send_video(b"\x00\x00\x00\x18ftypmp42", "видео")
    await user.send_document(b"%PDF-1.7", mime_type="application/pdf", file_name="act.pdf")
    await user.send_media("voice", 4096)
    await user.send_media("sticker", b"RIFF\x00\x00\x00\x00WEBPVP8 ")
    assert await user.file_requests() == []  # the bot asked for none of them: no getFile, no download
    big, video, pdf, voice, sticker = [(await next_event(events, n)).attachment for n in range(1, 6)]
    assert big == Attachment("photo", size=12 * MB, mime="image/jpeg", stored=None)
    assert (video.kind, video.stored, events[1].text) == ("video", None, "видео")
    assert pdf == Attachment("document", size=8, mime="application/pdf")
    assert (voice.kind, sticker.kind) == ("audio", "sticker")

    # An image sent as a file is kept when its bytes are an image, whatever the client claimed it was. The events
    # reach the service in the order sent, although the first waits for a download and the second is quick.
    await user.send_document(PNG, mime_type="image/jpeg", file_name="scan.jpg")
    await user.send_text("вот")
    await user.send_document(b"MZ\x90\x00 not an image", mime_type="image/png", file_name="photo.png")
    image, fake = (await next_event(events, 6)).attachment, (await next_event(events, 8)).attachment
    assert events[6].text == "вот" and events[6].attachment is None
    assert (image.kind, image.mime) == ("image", "image/png") and telegram_bot.app.files.read(image.stored) == PNG
    assert fake == Attachment("image", size=17, mime=None, stored=None)

    await user.send_location(43.2380, 76.9450)
    where = await next_event(events, 9)
    assert where.location == Location(43.2380, 76.9450) and where.attachment is None and where.text is None
    assert len(await user.file_requests()) == 4  # getFile and download of the two image documents only


@pytest.fixture
async def polling_bot(telegram_settings):
    bot = await PollingBot(telegram_settings).start()
    yield bot
    await bot.stop()


def question(text: str, wants: str | None = None, photo: str | None = None, **extra) -> Outbound:
    actions = (Choice("back", "Артқа"), Choice("cancel", "Бас тарту"))
    return Outbound(text, actions=actions, prompt="place", token="t1", wants=wants, photo=photo, **extra)


async def test_a_location_request_shows_a_button_until_the_next_message_takes_it_down(polling_bot, emulator):
    channel, bot = polling_bot.channel, polling_bot.application.bot
    user = emulator.user(TOKEN, user_id=7003, language_code="ru")

    # Outside a conversation the label follows the user's Telegram language (ru here).
    await channel.send(bot, user.chat_id, [Outbound("Где это?", wants="location")])
    [asked] = await user.bot_messages()
    assert asked.text == "Где это?" and asked.buttons == []
    assert asked.location_button == "📍 " + gettext_for("ru")("Send my location")
    assert asked.raw["sent_markup"]["one_time_keyboard"] is True
    await channel.send(bot, user.chat_id, [Outbound("Спасибо.")])
    thanks = await user.last_bot_message()
    assert thanks.removes_keyboard and await user.reply_keyboard() is None

    # With Back/Cancel as well: the text carries the reply keyboard, the inline buttons follow in a short message.
    await channel.send(bot, user.chat_id, [question("Бұл қай жерде?", wants="location")])
    where, options = (await user.bot_messages())[-2:]
    assert where.text == "Бұл қай жерде?" and where.location_button and where.buttons == []
    assert options.text == gettext_for("ru")("Other options:")
    assert [label for label, _ in options.flat_buttons] == ["Артқа", "Бас тарту"]
    assert (await user.reply_keyboard()).message_id == where.message_id
    # (No location is shared here: the running bot would answer it with a message of its own, which takes the
    # keyboard down first and races the summary below.)

    # The next message has buttons of its own: its last paragraph takes them, the rest takes the keyboard down.
    summary = question("Өтінішіңізді тексеріңіз:\n\nСанаты: Жолдар\n\nЖіберу керек пе?")
    await channel.send(bot, user.chat_id, [summary])
    details, ask = (await user.bot_messages())[-2:]
    assert details.text == "Өтінішіңізді тексеріңіз:\n\nСанаты: Жолдар" and details.removes_keyboard
    assert ask.text == "Жіберу керек пе?" and len(ask.flat_buttons) == 2
    assert await user.reply_keyboard() is None


async def test_a_location_request_asked_again_is_not_taken_down_first(polling_bot, emulator):
    channel, bot = polling_bot.channel, polling_bot.application.bot
    user = emulator.user(TOKEN, user_id=7004, language_code="ru")
    await channel.send(bot, user.chat_id, [Outbound("Где?", wants="location")])
    # A notice (say, "outside the city") then the same question: the keyboard stays, it is never removed between.
    await channel.send(bot, user.chat_id, [Outbound("Это место вне города."), Outbound("Где?", wants="location")])
    shown = await user.bot_messages()
    assert not any(m.removes_keyboard for m in shown) and (await user.reply_keyboard()).text == "Где?"
    # An edit can carry only an inline keyboard: the removal waits for a message that can take it.
    await channel.send(bot, user.chat_id, [question("Тандаңыз", choices=(Choice("1", "Бір"),), kind=EDIT)],
                       edit_id=shown[0].message_id)
    assert await user.reply_keyboard() is not None
    await channel.send(bot, user.chat_id, [Outbound("Готово.")])
    assert await user.reply_keyboard() is None


async def test_a_photo_goes_out_with_send_photo_and_its_text_as_caption(polling_bot, emulator):
    channel, bot, files = polling_bot.channel, polling_bot.application.bot, polling_bot.app.files
    user = emulator.user(TOKEN, user_id=7005, language_code="ru")
    key = files.put(JPEG, "image/jpeg")
    choices = (Choice("confirm", "Отправить"), Choice("cancel", "Отмена"))
    await channel.send(bot, user.chat_id, [Outbound("Проверьте заявку", choices, prompt="s", token="t", photo=key)])
    shown = await user.last_bot_message()
    assert shown.caption == "Проверьте заявку" and [b for b, _ in shown.flat_buttons] == ["Отправить", "Отмена"]
    assert await user.file_bytes(shown.photo["file_id"]) == JPEG

    # Over 1,024 characters: the photo alone, then the text with the buttons. The photo is not uploaded again.
    long = "Описание. " * 120
    await channel.send(bot, user.chat_id, [Outbound(long, choices, prompt="s", token="t", photo=key)])
    photo, text = (await user.bot_messages())[-2:]
    assert photo.caption is None and photo.photo["file_id"] == shown.photo["file_id"] and photo.buttons == []
    assert text.text == long and len(text.flat_buttons) == 2

    # A photo missing from the file store (another server's disk): the text still goes out.
    await channel.send(bot, user.chat_id, [Outbound("Без фото", photo="0" * 64 + ".jpg")])
    assert (await user.last_bot_message()).text == "Без фото"

"""A complaint filed over Telegram, end to end: a Kazakh-speaking citizen taps through category, description,
photo (a 12 MB one is refused without being downloaded) and location, confirms, gets a tracking number, and is
told in Kazakh when city staff change its status, pushed by the notifier running in the bot (polling or webhook,
SQLite or PostgreSQL)."""
from __future__ import annotations

import re

from handlers.complaints.states import STATE_NAMES
from handlers.i18n import gettext_for
from storage import complaints
from tests.telegram.conftest import TOKEN, Citizen

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01" + bytes(range(256)) * 64
NUMBER = re.compile(r"KZ-2026-\d{4}-\d{4}")
kk = gettext_for("kk")


async def test_a_citizen_files_a_complaint_by_taps_and_hears_of_its_progress_in_kazakh(telegram_bot, emulator):
    # Telegram says Russian; the citizen picks Kazakh, and every label the adapter adds follows that choice.
    citizen = Citizen(emulator.user(TOKEN, user_id=8001, first_name="Айгерім", language_code="ru"))
    user = citizen.user
    await user.send_command("/complaint")
    await citizen.tap("kk")
    categories = await user.wait_for_text(kk("What is the problem about? Choose a category."))
    roads = telegram_bot.app.deployment.categories[0]
    await citizen.tap(roads.code, categories)

    describe = kk("Describe the problem in a few sentences: what is wrong, and since when ({low}–{high} characters).")
    await user.wait_for_text(describe.format(low=10, high="2 000"))
    await user.send_text("Мектептің жанындағы жолда үлкен шұңқыр бар, екі аптадан бері")
    photo_step = await user.wait_for(lambda m: any(d.endswith("|skip") for _, d in m.flat_buttons))
    assert photo_step.text == kk("Send a photo of the problem (up to 10 MB), or skip this step.")
    await user.send_photo(12 * 1024 * 1024)  # Telegram says 12 MB: refused unseen, and the photo step stays
    await user.wait_for_text(kk("The photo is too large ({size} MB). The limit is 10 MB: please send a smaller "
                                "photo.").format(size="12,0"))
    assert await user.file_requests() == []
    await user.send_photo(JPEG)

    where = await user.wait_for(lambda m: m.location_button is not None)
    assert where.location_button == "📍 " + kk("Send my location")
    assert where.text.startswith(kk("Where is it? Share your location, or type the address in {city} (street and "
                                    "house number).").split("{")[0])
    options = await user.wait_for(lambda m: m.message_id > where.message_id and bool(m.buttons), fresh=False)
    assert options.text == kk("Other options:") and len(options.flat_buttons) == 2  # Back, Cancel
    await user.share_location(43.2380, 76.9450)

    # The summary: the details as the caption of the photo (taking the location keyboard down), then the question.
    ask = await user.wait_for(lambda m: any(d.endswith("|confirm") for _, d in m.flat_buttons))
    details = [m for m in await user.bot_messages() if m.message_id < ask.message_id][-1]
    assert details.photo is not None and details.removes_keyboard and await user.reply_keyboard() is None
    assert details.caption.startswith(kk("Please check your report:"))
    assert kk("Photo: {photo}").format(photo=kk("attached")) in details.caption
    assert "43.23800, 76.94500" in details.caption and roads.name("kk") in details.caption
    assert ask.text == kk("Send it to the city services?")
    assert await user.file_bytes(details.photo["file_id"]) == JPEG  # the photo the citizen sent, shown back
    await citizen.tap("confirm", ask)

    registered = await user.wait_for(lambda m: NUMBER.search(m.text) is not None)
    number = NUMBER.search(registered.text).group()
    assert registered.text == kk("Your report is registered. Its number is {number}. We will write to you here when "
                                 "its status changes. To check it: /status {number}").format(number=number)
    filed = (await complaints.staff_view(telegram_bot.app.engine, number)).complaint
    assert (filed.latitude, filed.longitude, filed.service_code) == (43.2380, 76.9450, roads.code)
    assert telegram_bot.app.files.read(filed.photo) == JPEG

    await complaints.set_state(telegram_bot.app.engine, number, "in_progress", "Бригада жіберілді", "staff")
    pushed = await user.wait_for(lambda m: number in m.text and "Бригада" in m.text, timeout=8)
    expected = kk("The status of report {number} has changed: {state}.").format(
        number=number, state=kk(STATE_NAMES["in_progress"]))
    assert pushed.text.startswith(expected) and kk(STATE_NAMES["in_progress"]) != "In progress"  # Kazakh, not the msgid
    assert kk("Comment from the city service: {note}").format(note="Бригада жіберілді") in pushed.text

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


async def file_by_typing(citizen: Citizen, language: str, place: str) -> None:
    """Category 1, a description, no photo, a typed address: everything typed, as on a phone without data."""
    user = citizen.user
    await user.send_command("/complaint")
    await citizen.tap(language)
    _ = gettext_for(language)
    await user.wait_for_text(_("What is the problem about? Choose a category."))
    for text in ("1", "Светофор на перекрёстке не работает третий день", "1"):
        await user.send_text(text)
        await user.wait_for(lambda m: m.text and not m.text.startswith("!"), timeout=10)
    await user.wait_for(lambda m: m.location_button is not None)
    await user.send_text(place)


async def test_a_similar_report_is_offered_and_supported_over_telegram(telegram_bot, emulator):
    ru, ky = gettext_for("ru"), gettext_for("ky")
    first = Citizen(emulator.user(TOKEN, user_id=8101, first_name="Асан", language_code="ru"))
    await file_by_typing(first, "ru", "ул. Абая, 150")
    ask = await first.user.wait_for(lambda m: any(d.endswith("|confirm") for _, d in m.flat_buttons))
    await first.tap("confirm", ask)
    number = NUMBER.search((await first.user.wait_for(lambda m: NUMBER.search(m.text) is not None)).text).group()

    second = Citizen(emulator.user(TOKEN, user_id=8102, first_name="Бермет", language_code="ky"))
    await file_by_typing(second, "ky", "Абая 150")  # the same address, written differently
    offer = await second.user.wait_for(lambda m: any(d.endswith("|support") for _, d in m.flat_buttons))
    # Split in two, as the message also takes the location keyboard down: the similar report, then the question.
    similar = [m for m in await second.user.bot_messages() if m.message_id < offer.message_id][-1]
    assert number in similar.text and "Светофор" not in similar.text  # the other citizen's words are not shown
    assert [label for label, _data in offer.flat_buttons][:2] == [ky("Support it"), ky("File mine anyway")]
    await second.tap("support", offer)
    await second.user.wait_for_text(ky("Thank you. Your support was added to report {number}; we will send you its "
                                       "updates.").format(number=number))
    assert [v.supporters for v in await complaints.query(telegram_bot.app.engine)] == [1]

    await complaints.set_state(telegram_bot.app.engine, number, "resolved", None, "staff")
    for citizen, _ in ((first, ru), (second, ky)):
        expected = _("The status of report {number} has changed: {state}.").format(
            number=number, state=_(STATE_NAMES["resolved"]))
        await citizen.user.wait_for(lambda m, expected=expected: m.text.startswith(expected), timeout=8)

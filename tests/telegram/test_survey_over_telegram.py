"""The survey over Telegram, end to end: python-telegram-bot talks HTTP to the Bot API emulator, in polling and
webhook mode, on SQLite and PostgreSQL. The test plays the citizen by tapping inline buttons."""
from __future__ import annotations

import pytest

from handlers.i18n import gettext_for
from tests.conftest import stored_codes
from tests.survey_paths import FULL, SKIP
from tests.telegram.conftest import Citizen

LANGUAGE_KEYS = {"kk": "kk", "ru": "ru", "ky": "ky"}


async def stored_answers(bot, user_id: int) -> dict[str, tuple[str, ...]]:
    return await stored_codes(bot.app, user_id, channel="telegram")


async def begin(citizen: Citizen, language: str):
    await citizen.user.send_command("start")
    menu = await citizen.question()
    assert [label for label, _ in menu.flat_buttons] == [
        ("✓ " if citizen.user.language_code == lang else "") + name
        for lang, name in (("kk", "Қазақша"), ("ru", "Русский"), ("ky", "Кыргызча"))
    ]
    await citizen.tap(language, menu)
    consent = await citizen.user.wait_for(lambda m: bool(m.buttons))
    await citizen.tap("yes", consent)
    return await citizen.user.wait_for(lambda m: bool(m.buttons))


@pytest.mark.parametrize("language", ["kk", "ky"])
async def test_complete_survey_by_tapping_buttons(telegram_bot, emulator, language):
    from tests.telegram.conftest import TOKEN

    citizen = Citizen(emulator.user(TOKEN, user_id=5001, language_code=language))
    q1 = await begin(citizen, language)
    assert q1.text.startswith(gettext_for(language)("Question {n} / {total}").format(n=1, total=32))
    screen = q1
    for index, answer in enumerate(FULL):
        if index == 5:  # the first statement: a Likert row of five digits with the legend in the text
            assert [label for label, _ in screen.flat_buttons[:5]] == ["1", "2", "3", "4", "5"]
            assert "5 — " in screen.text and len(screen.buttons[0]) == 5
        screen = await citizen.answer(answer)
    assert screen.text == gettext_for(language)("Thank you for taking part! Your answers have been saved.")
    assert await citizen.user.unanswered_callbacks() == []
    answers = await stored_answers(telegram_bot, 5001)
    assert len(answers) == 32 and answers["q2"] == ("1", "3", "5") and answers["s21"] == ("1",)


async def test_no_to_q1_jumps_to_the_profile(telegram_bot, emulator):
    from tests.telegram.conftest import TOKEN

    citizen = Citizen(emulator.user(TOKEN, user_id=5002, language_code="ru"))
    await begin(citizen, "ru")
    q7 = await citizen.answer(SKIP[0])
    assert q7.text.startswith("Вопрос 27 / 32") and "Сколько Вам полных лет?" in q7.text


async def test_fourth_pick_is_refused_and_the_three_stay(telegram_bot, emulator):
    from tests.telegram.conftest import TOKEN

    citizen = Citizen(emulator.user(TOKEN, user_id=5003, language_code="ru"))
    await begin(citizen, "ru")
    q2 = await citizen.answer("2")
    for key in ("2", "5", "8"):
        await citizen.tap(key, q2)
        q2 = await citizen.user.wait_for(lambda m, mid=q2.message_id: m.message_id == mid)
    await citizen.tap("1", q2)
    assert (await citizen.last_callback_answer()).startswith("Можно выбрать не более 3 вариантов.")
    q2 = (await citizen.user.bot_messages())[-1]
    assert [label for label, _ in q2.flat_buttons if label.startswith("✓ ")] == [
        "✓ Мнения граждан будут услышаны, решения будут приниматься более эффективные",
        "✓ Город станет более безопасным",
        "✓ Не имею позитивных ожиданий из-за провалов в реализации других программ",
    ]
    await citizen.tap("done", q2)
    await citizen.user.wait_for_text("Вопрос 3 / 32")
    assert (await stored_answers(telegram_bot, 5003))["q2"] == ("2", "5", "8")


async def test_switching_language_mid_survey_keeps_the_answers(telegram_bot, emulator):
    from tests.telegram.conftest import TOKEN

    citizen = Citizen(emulator.user(TOKEN, user_id=5004, language_code="ru"))
    await begin(citizen, "ru")
    for answer in FULL[:7]:
        await citizen.answer(answer)
    await citizen.user.send_command("language")
    menu = await citizen.user.wait_for(lambda m: bool(m.buttons))
    await citizen.tap("ky", menu)
    again = await citizen.user.wait_for(lambda m: bool(m.buttons))
    assert again.text.startswith("8 / 32 суроо") and telegram_bot.app.survey.question("s3").text("ky") in again.text
    assert len(await stored_answers(telegram_bot, 5004)) == 7
    await citizen.answer("3")
    assert (await stored_answers(telegram_bot, 5004))["s3"] == ("3",)


async def test_a_stale_button_is_answered_and_changes_nothing(telegram_bot, emulator):
    from tests.telegram.conftest import TOKEN

    citizen = Citizen(emulator.user(TOKEN, user_id=5005, language_code="kk"))
    q1 = await begin(citizen, "kk")
    await citizen.answer("2")
    await citizen.answer("1")
    await citizen.tap("4", q1)  # days later, on the old q1 message
    assert await citizen.last_callback_answer() == "Бұл түйме енді жұмыс істемейді."
    assert await stored_answers(telegram_bot, 5005) == {"q1": ("2",), "q2": ("1",)}


async def test_the_command_menu_is_set_in_each_language(telegram_settings):
    from tests.telegram.conftest import PollingBot

    bot = await PollingBot(telegram_settings).start()
    try:
        for language in ("kk", "ru", "ky"):
            commands = await bot.application.bot.get_my_commands(language_code=language)
            assert [c.command for c in commands] == [
                "start", "complaint", "status", "idea", "ideas", "menu", "language", "back", "forget", "help"]
            assert commands[0].description == gettext_for(language)("Begin or continue the survey")
            assert commands[1].description == gettext_for(language)("Report a problem")
        assert (await bot.application.bot.get_my_commands())[6].description == "Сменить язык"
    finally:
        await bot.stop()

"""A participatory-budget idea over Telegram, end to end (polling or webhook, SQLite or PostgreSQL): a citizen
proposes one by typing and tapping, is told it waits for moderation, and hears of the approval in their
language; another citizen finds it by district, taps Support twice at the same moment (counted once, the page
edited in place), and withdraws."""
from __future__ import annotations

import asyncio
import dataclasses

import pytest

from handlers.i18n import gettext_for
from storage import ideas
from tests.ideas.test_ideas_console import DESCRIPTION, TITLE, city_file
from tests.telegram.conftest import TOKEN, Citizen

ru, kk = gettext_for("ru"), gettext_for("kk")


@pytest.fixture
def telegram_settings(telegram_settings, tmp_path):
    return dataclasses.replace(telegram_settings, city=city_file(tmp_path))


async def supports(engine, idea_id: int) -> int:
    return next(v.supports for v in await ideas.listing(engine, state=None) if v.id == idea_id)


async def test_an_idea_is_proposed_approved_and_supported_once_over_telegram(telegram_bot, emulator):
    app = telegram_bot.app
    author = Citizen(emulator.user(TOKEN, user_id=8201, first_name="Айгерім", language_code="kk"))
    await author.user.send_command("/idea")
    await author.tap("kk")
    await author.user.wait_for_text(kk("What is your idea for the city? Give it a short title (up to {high} "
                                       "characters).").format(high=120))
    await author.user.send_text(TITLE)
    await author.user.wait_for_text(kk("Describe the idea: what should be done, where, and who will benefit "
                                       "({low}–{high} characters).").format(low=10, high="2 000"))
    await author.user.send_text(DESCRIPTION)
    districts = await author.user.wait_for(lambda m: any(d.endswith("|medeu") for _, d in m.flat_buttons))
    await author.tap("medeu", districts)
    categories = await author.user.wait_for(lambda m: any(d.endswith("|greenery") for _, d in m.flat_buttons))
    await author.tap("greenery", categories)
    photo = await author.user.wait_for(lambda m: m.text.startswith(kk(
        "Send a photo of the place or of a similar project (up to 10 MB), or skip this step.")))
    await author.tap("skip", photo)
    cost = await author.user.wait_for(lambda m: m.message_id > photo.message_id and bool(m.buttons))
    await author.tap("skip", cost)
    confirm = await author.user.wait_for(lambda m: any(d.endswith("|confirm") for _, d in m.flat_buttons))
    await author.tap("confirm", confirm)
    await author.user.wait_for_text(kk("Thank you! Your idea “{title}” has been sent for moderation. Once it is "
                                       "approved, other citizens can support it in /ideas. We will write to you here "
                                       "either way.").format(title=TITLE))
    [idea] = await ideas.listing(app.engine, state="pending")

    await ideas.moderate(app.engine, idea.id, approve=True, reason=None, actor="anna")
    await author.user.wait_for_text(kk("Your idea “{title}” was approved and is now open for support: /ideas").format(
        title=TITLE), timeout=8)

    reader = Citizen(emulator.user(TOKEN, user_id=8202, first_name="Данияр", language_code="ru"))
    await reader.user.send_command("/ideas")
    await reader.tap("ru")
    districts = await reader.user.wait_for(lambda m: any(d.endswith("|medeu") for _, d in m.flat_buttons))
    await reader.tap("medeu", districts)
    page = await reader.user.wait_for(lambda m: TITLE in m.text and bool(m.buttons))
    assert page.message_id == districts.message_id  # the district list became the page, edited in place
    assert ru("Supported by: {count}").format(count=0) in page.text

    # Two taps on Support at the same moment: one support, and the second tap is told so.
    await asyncio.gather(reader.tap(f"s{idea.id}", page), reader.tap(f"s{idea.id}", page))
    for _ in range(200):
        answers = [q["answer"] for q in await reader.user.callback_queries()][-2:]
        if all(a is not None for a in answers):
            break
        await asyncio.sleep(0.05)
    assert sorted(a.get("text") for a in answers) == sorted([
        ru("Thank you! Your support for “{title}” is counted.").format(title=TITLE),
        ru("You already support this idea. Each citizen can support an idea once."),
    ])
    assert await supports(app.engine, idea.id) == 1
    page = await reader.user.wait_for(lambda m: m.message_id == page.message_id and
                                      ru("Supported by: {count}").format(count=1) in m.text, fresh=False)
    assert any(d.endswith(f"|w{idea.id}") for _, d in page.flat_buttons)

    await reader.tap(f"w{idea.id}", page)
    assert await reader.last_callback_answer() == ru("Your support for “{title}” was withdrawn.").format(title=TITLE)
    assert await supports(app.engine, idea.id) == 0

"""Participatory-budget ideas through the console channel, on SQLite and PostgreSQL: propose → pending →
moderated (the author told in their language) → listed by district → supported once → withdrawn; rejected ideas
stay unlisted; 50 simultaneous taps count once; support is refused after the cycle closes and the results are
exported; bad input is answered clearly and loses nothing."""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import dataclasses
import io
import uuid
from datetime import datetime, timezone

import pytest
from openpyxl import load_workbook

from analysis.__main__ import main as analysis_main
from bot import staff
from bot.service import Service
from handlers.deployment import BUILTIN
from handlers.events import NOTICE, Inbound, Tap
from handlers.i18n import gettext_for
from handlers.ideas.records import SubmitIdea
from handlers.session import IDEA, IDEAS
from storage import ideas
from storage.pseudonyms import pseudonym
from tests.conftest import Transcript, stored_session
from tests.survey_paths import LANGUAGE_NUMBER

CYCLES = """budget_cycles:
  - {id: "past", opens: 2000-01-01, closes: 2000-12-31}
  - {id: "now", opens: 2001-01-01, closes: 2999-12-31}
"""
AFTER_CLOSE = datetime(3000, 1, 2, 12, tzinfo=timezone.utc)
TITLE = "Сквер на месте пустыря"
DESCRIPTION = "Посадить деревья, поставить скамейки и освещение на пустыре у дома 12 по улице Абая"
MEDEU, GREENERY = "6", "6"  # numbers in the district list and in the list of categories ideas may use


def city_file(tmp_path) -> str:
    text = (BUILTIN / "almaty.yaml").read_text(encoding="utf-8")
    text = text[: text.index("budget_cycles:")] + CYCLES + text[text.index("limits:"):]
    path = tmp_path / "city.yaml"
    path.write_text(text, encoding="utf-8")
    return str(path)


@pytest.fixture
def settings(settings, tmp_path):
    return dataclasses.replace(settings, city=city_file(tmp_path), staff=frozenset({"anna"}))


def citizen(app, user: str) -> Transcript:
    return Transcript(app.service, user_id=user, files=app.files)


async def propose(console: Transcript, language="ru", title=TITLE, *, district=MEDEU, category=GREENERY,
                  photo: str | None = None, cost: str | None = None, confirm=True):
    await console.many("/idea", LANGUAGE_NUMBER[language], title, DESCRIPTION, district, category)
    await console.say(f"[photo] {photo}" if photo else "1")  # 1 = Skip
    await console.say(cost or "1")
    if confirm:
        await console.say("1")  # Send
    return console.last


async def staff_command(settings, *argv: str) -> tuple[int, str, str]:
    parser = argparse.ArgumentParser()
    staff.parser(parser.add_subparsers(dest="command"))
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err):
        code = await staff.run(parser.parse_args(["staff", "--as", "anna", *argv]), settings, out=out)
    return code, out.getvalue(), err.getvalue()


async def tap(app, console: Transcript, key: str, channel: str = "console"):
    """A callback for the current prompt carrying any key: what a forged or replayed button sends."""
    session = await stored_session(app, console.user_id, channel)
    event = Inbound(channel, console.user_id, uuid.uuid4().hex, tap=Tap(session.prompt, session.token, key))
    console.last = await console.deliver(event)
    return console.last


async def supports(app, idea_id: int) -> int:
    found = [v for v in await ideas.listing(app.engine, state=None) if v.id == idea_id]
    return found[0].supports


async def approved_idea(app, settings, user="author", language="ru", title=TITLE) -> int:
    await propose(citizen(app, user), language, title)
    idea_id = (await ideas.listing(app.engine))[-1].id
    assert (await staff_command(settings, "idea", "approve", str(idea_id)))[0] == 0
    return idea_id


def at(moment: datetime):
    return lambda: moment


def move_clock(app, moment: datetime) -> None:
    for flow in app.service.conversation.flows.values():
        flow.clock = at(moment)


async def test_propose_moderate_list_support_once_and_withdraw(app, settings):
    kk = gettext_for("kk")
    author = citizen(app, "author")
    summary = (await propose(author, "kk", confirm=False))[-1]
    assert summary.prompt == "i.summary" and TITLE in summary.text and DESCRIPTION in summary.text
    assert "Медеу ауданы" in summary.text and "Көгалдандыру және саябақтар" in summary.text
    await author.say("1")
    assert author.last[0].text == kk(
        "Thank you! Your idea “{title}” has been sent for moderation. Once it is approved, other citizens can "
        "support it in /ideas. We will write to you here either way.").format(title=TITLE)
    [pending] = await ideas.listing(app.engine, state="pending")
    assert (pending.title, pending.district, pending.category, pending.cycle) == (TITLE, "medeu", "greenery", "now")

    reader = citizen(app, "reader")
    await reader.many("/ideas", "2")
    assert reader.last[-1].prompt == "b.district"
    await reader.say(MEDEU)
    assert TITLE not in reader.text  # pending: not listed

    code, out, _err = await staff_command(settings, "idea", "list")
    assert code == 0 and f"#{pending.id}" in out and TITLE in out
    assert (await staff_command(settings, "idea", "approve", str(pending.id)))[0] == 0
    app.notifier.add("console", author.push)
    assert await app.notifier.deliver_once() == 1
    assert kk("Your idea “{title}” was approved and is now open for support: /ideas").format(
        title=TITLE) in author.out.getvalue()

    await reader.say("/ideas")  # the same district's page again, with today's ideas
    page = reader.last[-1]
    ru = gettext_for("ru")
    assert page.prompt == "b.page" and TITLE in page.text and ru("Supported by: {count}").format(count=0) in page.text
    assert page.choices[0].key == f"s{pending.id}"
    await reader.say("1")  # Support: 1. …
    assert reader.last[0].kind == NOTICE and reader.last[0].text == ru(
        "Thank you! Your support for “{title}” is counted.").format(title=TITLE)
    assert ru("Supported by: {count}").format(count=1) in reader.last[-1].text
    assert reader.last[-1].choices[0].key == f"w{pending.id}"
    assert await supports(app, pending.id) == 1

    await tap(app, reader, f"s{pending.id}")  # a second support by the same citizen
    assert reader.last[0].text == ru("You already support this idea. Each citizen can support an idea once.")
    assert await supports(app, pending.id) == 1

    await author.many("/ideas", MEDEU)  # the author sees their idea without a Support button
    assert kk("(your idea)") in author.text and not any(c.key.startswith("s") for c in author.last[-1].choices)
    await tap(app, author, f"s{pending.id}")
    assert author.last == [author.last[0]] and author.last[0].text == kk("You cannot support your own idea.")
    assert await supports(app, pending.id) == 1

    await reader.say("1")  # Withdraw support
    assert reader.last[0].text == ru("Your support for “{title}” was withdrawn.").format(title=TITLE)
    assert await supports(app, pending.id) == 0
    await reader.say("1")  # and support again
    assert await supports(app, pending.id) == 1


async def test_rejected_ideas_are_not_listed_and_the_author_hears_why(app, settings):
    ky = gettext_for("ky")
    author = citizen(app, "author")
    await propose(author, "ky", "Велосипед жолу")
    await propose(author, "ky", "Балдар аянтчасы")
    first, second = [v.id for v in await ideas.listing(app.engine)]
    code, _out, err = await staff_command(settings, "idea", "reject", str(first), "--reason", "   ")
    assert code == 1 and "reason" in err  # a rejection needs a reason: nothing changed
    assert (await staff_command(settings, "idea", "reject", str(first), "--reason", "Не городская земля"))[0] == 0
    assert (await staff_command(settings, "idea", "approve", str(second)))[0] == 0
    code, _out, err = await staff_command(settings, "idea", "approve", str(first))
    assert code == 1 and "rejected" in err  # only a pending idea can be moderated
    code, _out, err = await staff_command(settings, "idea", "approve", "99999")
    assert code == 1 and "99999" in err
    code, out, _err = await staff_command(settings, "idea", "list", "--state", "rejected")
    assert "Велосипед жолу" in out and "Балдар" not in out

    app.notifier.add("console", author.push)
    assert await app.notifier.deliver_once() == 2
    said = author.out.getvalue()
    assert ky("Your idea “{title}” was not approved. Reason: {reason}").format(
        title="Велосипед жолу", reason="Не городская земля") in said

    reader = citizen(app, "reader")
    await reader.many("/ideas", "3", MEDEU)
    assert "Балдар аянтчасы" in reader.text and "Велосипед жолу" not in reader.text
    await tap(app, reader, f"s{first}")  # a forged support for the rejected idea
    assert reader.last[0].text == ky("This idea is not open for support. Nothing was changed.")
    assert await supports(app, first) == 0


async def test_fifty_simultaneous_support_taps_of_one_citizen_count_once(app, settings):
    idea_id = await approved_idea(app, settings)
    reader = citizen(app, "reader")
    await reader.many("/ideas", "2", MEDEU)
    session = await stored_session(app, "reader")
    # Three bot processes (webhook workers) get the same tap 50 times at once, as a frantic double-tapper would.
    workers = [app.service] + [Service(app.service.conversation, app.service.repository, app.settings.secret)
                               for _ in range(2)]
    taps = [workers[i % 3].handle(Inbound("console", "reader", uuid.uuid4().hex,
                                          tap=Tap(session.prompt, session.token, f"s{idea_id}")))
            for i in range(50)]
    results = await asyncio.gather(*taps, return_exceptions=True)
    for worker in workers[1:]:
        await worker.committer.close()
    assert await supports(app, idea_id) == 1
    thanks = gettext_for("ru")("Thank you! Your support for “{title}” is counted.").format(title=TITLE)
    already = gettext_for("ru")("You already support this idea. Each citizen can support an idea once.")
    counted = [r for r in results if not isinstance(r, Exception) and r[0].text == thanks]
    assert len(counted) == 1
    # Every other tap was refused; a worker that kept losing the race to the others (5 reloads) raises, and the
    # channel redelivers the tap later (a webhook answers 500), when it is refused too.
    assert all(isinstance(r, RuntimeError) or r[0].text == already for r in results if r not in counted)

    # And below the conversation: 50 transactions inserting the same support at once; the key keeps one.
    async def insert_one():
        async with app.engine.begin() as connection:
            return await ideas.support(connection, idea_id, "now", "someone", datetime.now(timezone.utc))

    added = await asyncio.gather(*(insert_one() for _ in range(50)))
    assert sum(added) == 1 and await supports(app, idea_id) == 2


async def test_support_after_the_cycle_closed_is_refused_and_the_results_are_exported(app, settings, tmp_path,
                                                                                     monkeypatch):
    idea_id = await approved_idea(app, settings)
    other = await approved_idea(app, settings, user="author2", title="Фонтан в парке")
    fan, late = citizen(app, "fan"), citizen(app, "late")
    await fan.many("/ideas", "2", MEDEU, "2")  # supports the second on the page, "Фонтан" (ties: older first)
    assert await supports(app, other) == 1
    await late.many("/ideas", "2", MEDEU)

    move_clock(app, AFTER_CLOSE)
    ru = gettext_for("ru")
    await tap(app, late, f"s{idea_id}")  # the Support button of the page opened before the close
    assert late.last[0].kind == NOTICE and late.last[0].text == ru(
        "Support for cycle {cycle} closed on {date}. You can still see the results here.").format(
        cycle="now", date="31.12.2999")
    assert await supports(app, idea_id) == 0
    await tap(app, fan, f"w{other}")  # withdrawing is closed too: the results stand
    assert fan.last == [fan.last[0]] and await supports(app, other) == 1
    await late.say("/ideas")  # the page again, now as results
    page = late.last[-1]
    assert "Фонтан в парке" in page.text and not any(c.key[0] in "sw" for c in page.choices)
    assert ru("Support for cycle {cycle} closed on {date}.").format(cycle="now", date="31.12.2999") in page.text
    await late.say("/idea")
    assert late.last[0].text == ru("Ideas are not being collected now: no participatory-budget cycle is open.")

    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    if settings.database_schema:
        monkeypatch.setenv("PIKIR_DB_SCHEMA", settings.database_schema)
    monkeypatch.setenv("PIKIR_CITY", settings.city)
    monkeypatch.setenv("PIKIR_SECRET", "test-secret")
    monkeypatch.setenv("PIKIR_DATA_DIR", str(tmp_path))
    out = tmp_path / "results.csv"
    assert await asyncio.to_thread(analysis_main, ["ideas", "--cycle", "now", "--format", "csv", "--out", str(out)]) == 0
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert list(rows[0]) == ["cycle", "district_code", "district", "idea_id", "title", "category_code", "category",
                             "supports"]
    assert [(r["title"], r["supports"], r["district"]) for r in rows] == [
        ("Фонтан в парке", "1", "Медеуский район"), (TITLE, "0", "Медеуский район")]
    book = tmp_path / "results.xlsx"
    assert await asyncio.to_thread(analysis_main, ["ideas", "--cycle", "now", "--format", "xlsx", "--out", str(book),
                                                   "--labels", "kk"]) == 0
    sheet = load_workbook(book).active
    assert [c.value for c in sheet[2]] == ["now", "medeu", "Медеу ауданы", other, "Фонтан в парке", "greenery",
                                           "Көгалдандыру және саябақтар", 1]
    assert await asyncio.to_thread(analysis_main, ["ideas", "--cycle", "nope", "--out", str(out)]) == 2


async def test_bad_input_is_answered_clearly_and_nothing_is_lost(app):
    ru = gettext_for("ru")
    console = citizen(app, "bad")
    await console.many("/idea", "2")
    assert console.last[-1].prompt == "i.title"
    await console.say("")
    assert console.last[0].kind == NOTICE
    assert console.last[0].text == ru("The title is empty. Please type a short title for your idea.")
    await console.say("x" * 121)
    assert console.last[0].text == ru("The title is too long ({count} characters). Please shorten it to {high} "
                                      "characters.").format(count=121, high=120)
    await console.say(TITLE)
    long = "ы" * 10_000
    await console.say(long)
    assert console.last[0].text == ru("The description is too long ({count} characters). Please shorten it to "
                                      "{high} characters and send it again.").format(count=10_000, high=2000)
    assert console.last[-1].prompt == "i.description"
    assert (await stored_session(app, "bad")).draft == {"title": TITLE}
    await console.say(DESCRIPTION)
    await console.say("Нарынский район")  # a district of another city
    assert console.last[0].text == ru("“{text}” is not a district of {city}. Please choose a district from the "
                                      "list.").format(text="Нарынский район", city="Алматы")
    assert console.last[-1].prompt == "i.district"
    await tap(app, console, "naryn")  # a forged button
    assert console.last[0].kind == NOTICE and console.last[-1].prompt == "i.district"
    assert (await stored_session(app, "bad")).draft == {"title": TITLE, "description": DESCRIPTION}
    await console.say("медеуский РАЙОН")  # typed, any case
    assert console.last[-1].prompt == "i.category"
    await console.many(GREENERY, "1")
    await console.say("пять миллионов")
    assert console.last[0].text == ru("Please type the cost as a number, for example 5 000 000, or tap Skip.")
    await console.say("5 000 000 ₸")
    summary = console.last[-1]
    assert summary.prompt == "i.summary" and "5 000 000" in summary.text
    assert (await stored_session(app, "bad")).draft["cost"] == 5_000_000
    assert await ideas.listing(app.engine) == []  # nothing filed before Send


async def test_forged_support_callbacks_are_refused_and_change_nothing(app, settings):
    approved = await approved_idea(app, settings)
    await propose(citizen(app, "author"), "ru", "Ещё не проверенная идея")
    pending = (await ideas.listing(app.engine, state="pending"))[0].id
    reader = citizen(app, "reader")
    await reader.many("/ideas", "2", MEDEU)
    before = await stored_session(app, "reader")
    ru = gettext_for("ru")
    for key, answer in [(f"s{pending}", "This idea is not open for support. Nothing was changed."),
                        ("s99999", "There is no such idea. Nothing was changed."),
                        ("w99999", "There is no such idea. Nothing was changed."),
                        ("s1x", None)]:
        await tap(app, reader, key)
        assert reader.last[0].kind == NOTICE
        if answer:
            assert reader.last == [reader.last[0]] and reader.last[0].text == ru(answer)
    after = await stored_session(app, "reader")
    assert after.draft == before.draft and after.step == "page"
    assert await supports(app, approved) == 0 and await supports(app, pending) == 0


async def test_three_ideas_per_cycle(app):
    console = citizen(app, "busy")
    for n in range(3):
        await propose(console, "ru", f"{TITLE} {n}")
    await console.say("/idea")
    assert console.last[0].text == gettext_for("ru")(
        "You have already proposed {limit} ideas in this cycle, the limit. You can support other citizens' ideas: "
        "/ideas").format(limit=3)
    # Even an effect that slipped past the conversation is not written: the limit is in the INSERT as well.
    busy = pseudonym(app.settings.secret, "console", "busy")
    async with app.engine.begin() as connection:
        await ideas.apply(connection, SubmitIdea("now", "medeu", "greenery", "Четвёртая", DESCRIPTION, None, None,
                                                 "ru", limit=3), busy, datetime.now(timezone.utc))
    assert [v.title for v in await ideas.listing(app.engine)] == [f"{TITLE} {n}" for n in range(3)]


async def test_pages_of_five_most_supported_first(app):
    async with app.engine.begin() as connection:
        for n in range(7):
            await ideas.apply(connection, SubmitIdea("now", "medeu", "roads", f"Идея номер {n}", DESCRIPTION, None,
                                                     None, "ru", 3), f"author-{n}", datetime.now(timezone.utc))
    for view in await ideas.listing(app.engine):
        await ideas.moderate(app.engine, view.id, approve=True, reason=None, actor="anna")
        async with app.engine.begin() as connection:  # idea n gets n supports
            for k in range(int(view.title[-1])):
                await ideas.support(connection, view.id, "now", f"fan-{k}", datetime.now(timezone.utc))
    reader = citizen(app, "reader")
    await reader.many("/ideas", "2", MEDEU)
    page = reader.last[-1]
    titles = [line for line in page.text.splitlines() if "Идея номер" in line]
    assert titles == [f"{i}. Идея номер {n}" for i, n in zip(range(1, 6), (6, 5, 4, 3, 2))]
    ru = gettext_for("ru")
    keys = [c.key for c in page.choices]
    assert keys[-2:] == ["next", "districts"] and "prev" not in keys and len(keys) == 7
    await reader.say(str(keys.index("next") + 1))
    page = reader.last[-1]
    assert [line for line in page.text.splitlines() if "Идея номер" in line] == ["6. Идея номер 1", "7. Идея номер 0"]
    assert [c.key for c in page.choices][-2:] == ["prev", "districts"]
    assert ru("{district}, cycle {cycle}: ideas {first}–{last} of {total}, the most supported first.").format(
        district="Медеуский район", cycle="now", first=6, last=7, total=7) in page.text
    await reader.say("/back")
    assert reader.last[-1].prompt == "b.district" and "Медеуский район (7)" in [c.label for c in reader.last[-1].choices]


async def test_menu_help_photo_and_forget(app, settings, tmp_path):
    from tests.complaints.test_complaints_console import png

    photo = tmp_path / "square.png"
    photo.write_bytes(png())
    console = citizen(app, "leaving")
    summary = (await propose(console, "ru", photo=str(photo), cost="1 500 000", confirm=False))[-1]
    assert summary.photo and "1 500 000" in summary.text
    await console.say("1")
    menu = console.last[-1]
    assert menu.prompt == "menu" and {IDEA, IDEAS} <= {c.key for c in menu.choices}
    await console.say("/help")
    assert "/idea" in console.text and "/ideas" in console.text
    [view] = await ideas.listing(app.engine)
    assert app.files.read(view.photo) == png() and view.cost == 1_500_000
    await ideas.moderate(app.engine, view.id, approve=True, reason=None, actor="anna")
    fan = citizen(app, "fan")
    await fan.many("/ideas", "2", MEDEU, "1")
    assert await supports(app, view.id) == 1
    await fan.many("/forget", "1")
    await console.many("/forget", "1")
    [view] = await ideas.listing(app.engine, state="approved")
    assert view.supports == 0 and view.title == TITLE  # the idea stays, without its author or the fan's support

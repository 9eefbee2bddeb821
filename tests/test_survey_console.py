"""The survey through the console channel, on SQLite and PostgreSQL: what a citizen typing numbers sees."""
from __future__ import annotations

import csv

import pytest

from analysis.export import export_csv
from handlers.i18n import gettext_for
from storage.pseudonyms import pseudonym
from tests.conftest import stored_session
from tests.survey_paths import FULL, SKIP, opening


async def answers_of(app, user="citizen-1"):
    session = await stored_session(app, user)
    return session.answers if session else {}


async def exported(app, tmp_path):
    out = tmp_path / "export.csv"
    await export_csv(app.engine, app.survey, out)
    with open(out, encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@pytest.mark.parametrize("language", ["kk", "ru", "ky"])
async def test_complete_survey_in_each_language(app, console, tmp_path, language):
    await console.say("/start")
    assert "1. Қазақша\n  2. Русский\n  3. Кыргызча" in console.out.getvalue()
    await console.many(*opening(language))
    assert console.last[0].text.endswith(app.survey.first.text(language))
    seen = []
    for answer in FULL:
        seen.append(console.text)
        await console.say(answer)
    assert console.text == gettext_for(language)("Thank you for taking part! Your answers have been saved.")
    assert any("7 / 32" in text for text in seen) and any("32 / 32" in text for text in seen)
    assert app.survey.question("s20").text(language) in console.out.getvalue()

    [row] = await exported(app, tmp_path)
    assert row["language"] == language and row["survey_version"] == "1"
    assert (row["q1"], row["q2_1"], row["q2_2"], row["q2_3"], row["q2_5"], row["q3_2"], row["q3_3"]) == (
        "2", "1", "0", "1", "1", "1", "1")
    assert [row[f"s{i}"] for i in range(1, 22)] == [str(1 + i % 5) for i in range(21)]
    assert (row["q7"], row["q8"], row["city"], row["q10"], row["q11"], row["q12"]) == ("2", "1", "3", "2", "2", "1")
    assert row["completed_at"] >= row["started_at"]


async def test_no_to_q1_skips_to_the_profile(app, console, tmp_path):
    await console.many(*opening("ru"), SKIP[0])
    assert console.text.startswith("Вопрос 27 / 32") and app.survey.question("q7").text("ru") in console.text
    await console.many(*SKIP[1:])
    [row] = await exported(app, tmp_path)
    assert row["q1"] == "4" and row["q7"] == "1" and row["q12"] == "2"
    skipped = [c for c in row if c.startswith(("q2", "q3", "q4", "q5")) or c[0] == "s" and c[1:].isdigit()]
    assert len(skipped) == 8 + 5 + 4 + 21 and all(row[c] == "" for c in skipped)


async def test_at_most_three_expectations(app, console):
    await console.many(*opening("ru"), "1")
    await console.say("1,2,3,4")
    assert console.last[0].text == "Можно выбрать не более 3 вариантов."
    assert console.last[1].prompt == "q2"
    await console.say("1, 2 ,3")
    assert console.last[0].prompt == "q3"
    assert (await answers_of(app))["q2"].codes == ("1", "2", "3")


async def test_back_reasks_the_previous_question_with_its_answer(app, console, tmp_path):
    await console.many(*opening("kk"), "2", "1,3")
    await console.say("/back")
    q2 = console.last[0]
    assert q2.prompt == "q2" and [c.key for c in q2.choices if c.picked] == ["1", "3"]
    assert "✓ " + app.survey.question("q2").option("1").label("kk") in console.out.getvalue()
    await console.say("2")
    assert console.last[0].prompt == "q3"
    await console.many(*FULL[2:])
    [row] = await exported(app, tmp_path)
    assert (row["q2_1"], row["q2_2"], row["q2_3"]) == ("0", "1", "0")


async def test_back_to_q1_and_changing_to_no_drops_the_skipped_answers(app, console, tmp_path):
    await console.many(*opening("ru"), "2", "1", "1", "/back", "/back", "/back")
    assert console.last[0].prompt == "q1"
    await console.many(*SKIP)
    [row] = await exported(app, tmp_path)
    assert row["q1"] == "4" and row["q2_1"] == "" and row["q3_1"] == ""


async def test_language_switch_mid_survey_keeps_every_answer(app, console, tmp_path):
    await console.many(*opening("ru"), *FULL[:8])
    before = await answers_of(app)
    await console.say("/language")
    await console.say("3")
    assert console.last[0].prompt == "s4"
    assert console.text.startswith("9 / 32 суроо") and app.survey.question("s4").text("ky") in console.text
    assert await answers_of(app) == before
    await console.many(*FULL[8:])
    [row] = await exported(app, tmp_path)
    assert row["language"] == "ky" and row["s3"] == "3" and row["s4"] == "4"


async def test_other_specify_asks_for_the_text(app, console, tmp_path):
    await console.many(*opening("ru"), "2", "1", "1", "4")
    assert "«Другой способ (указать)»" in console.text
    await console.say("   ")
    assert console.last[0].text == "Пожалуйста, напишите ответ сообщением."
    await console.say("Через чат-бот в Telegram")
    assert console.last[0].prompt == "q5"
    await console.many(*FULL[4:])
    [row] = await exported(app, tmp_path)
    assert row["q4"] == "4" and row["q4_other"] == "Через чат-бот в Telegram" and row["q5_other"] == ""


async def test_start_mid_survey_offers_continue_or_start_over(app, console):
    await console.many(*opening("ru"), "2", "1,3")
    await console.say("/start")
    assert "(вопрос 3 / 32)" in console.text and [c.label for c in console.last[0].choices] == ["Продолжить", "Начать заново"]
    await console.say("1")
    assert console.last[0].prompt == "q3"
    assert set(await answers_of(app)) == {"q1", "q2"}
    await console.many("/start", "2")
    assert console.last[0].prompt == "q1" and await answers_of(app) == {}


async def test_declining_consent_keeps_nothing_but_a_counter(app, console):
    await console.many("/start", "2", "2")
    assert console.text == "Спасибо за Ваше время. Если передумаете, отправьте /start."
    assert await app.service.repository.counter("consent_declined") == 1
    async with app.engine.connect() as connection:
        for table in ("conversations", "responses", "answers"):
            assert (await connection.exec_driver_sql(f"SELECT count(*) FROM {table}")).scalar() == 0


async def test_forget_deletes_the_respondents_data_after_confirmation(app, console):
    await console.many(*opening("ky"), "2", "1")
    await console.say("/forget")
    assert console.last[0].choices[0].label == "Ооба, өчүрүү"
    await console.say("2")
    assert set(await answers_of(app)) == {"q1", "q2"}
    await console.many("/forget", "1")
    assert console.text == "Бардык жоопторуңуз өчүрүлдү. Кайра баштоо үчүн /start жөнөтүңүз."
    async with app.engine.connect() as connection:
        for table in ("conversations", "responses", "answers"):
            assert (await connection.exec_driver_sql(f"SELECT count(*) FROM {table}")).scalar() == 0
    await console.say("/start")
    assert console.last[0].prompt == "language"


async def test_the_same_event_delivered_twice_is_handled_once(app, console):
    await console.many(*opening("ru"))
    event = console.event("2", event_id="update-42")
    first = await console.deliver(event)
    again = await console.deliver(event)
    assert first[0].prompt == "q2" and again == []
    assert (await answers_of(app))["q1"].codes == ("2",)
    await console.say("1")  # the next, distinct event answers q2, not a phantom second q1
    assert console.last[0].prompt == "q3"
    async with app.engine.connect() as connection:
        assert (await connection.exec_driver_sql("SELECT count(*) FROM answers")).scalar() == 2


async def test_exports_contain_no_identifiers(app, tmp_path):
    from tests.conftest import Transcript

    users = ["telegram-5550001234", "+77011234567", "Айгерим Сапарова"]
    for user in users:
        await Transcript(app.service, user_id=user).many(*opening("kk"), *SKIP)
    out = tmp_path / "export.csv"
    assert await export_csv(app.engine, app.survey, out) == 3
    text = out.read_text(encoding="utf-8")
    for user in users:
        assert user not in text and pseudonym(app.settings.secret, "console", user) not in text

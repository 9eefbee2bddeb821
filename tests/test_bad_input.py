"""Bad input gets a clear answer in the user's language, the question again, and loses nothing."""
from __future__ import annotations

import uuid

import pytest

from handlers.events import NOTICE, Inbound, Tap
from handlers.i18n import gettext_for
from tests.conftest import stored_session
from tests.survey_paths import opening

CASES = [
    ("hello", "Please answer with the number of an option, from 1 to {count}."),
    ("9", "There is no option with that number. Please choose from 1 to {count}."),
    ("0", "There is no option with that number. Please choose from 1 to {count}."),
    ("-1", "Please answer with the number of an option, from 1 to {count}."),
    ("1,1,1", "Please choose just one option."),
    ("", "Please answer with the number of an option, from 1 to {count}."),
    ("ы" * 5000, "Please answer with the number of an option, from 1 to {count}."),
    ("🙂👍", "Please answer with the number of an option, from 1 to {count}."),
]


async def stored(app, user="citizen-1"):
    return await stored_session(app, user)


@pytest.mark.parametrize("language", ["kk", "ky"])
@pytest.mark.parametrize("text,problem", CASES, ids=["text", "9", "0", "-1", "1,1,1", "empty", "5000", "emoji"])
async def test_bad_answer_to_a_single_choice(app, console, language, text, problem):
    await console.many(*opening(language), "2", "1", "1,2")  # now at q4, 4 options
    before = await stored(app)
    await console.say(text)
    notice, again = console.last
    assert notice.kind == NOTICE and notice.text == gettext_for(language)(problem).format(count=4)
    assert again.prompt == "q4" and again.text.endswith(app.survey.question("q4").text(language))
    assert (await stored(app)).answers == before.answers
    await console.say("2")
    assert console.last[0].prompt == "q5"


@pytest.mark.parametrize("text,problem", [
    ("1,1,1", "Each option can be chosen only once."),
    ("1,2,3,4", "You can choose at most {max} options."),
    ("2, 9", "There is no option with that number. Please choose from 1 to {count}."),
])
async def test_bad_answer_to_a_multi_select(app, console, text, problem):
    await console.many(*opening("ru"), "2")
    await console.say(text)
    assert console.last[0].text == gettext_for("ru")(problem).format(count=8, max=3)
    assert console.last[1].prompt == "q2" and (await stored(app)).answers.keys() == {"q1"}


async def test_unknown_command_is_explained_and_the_question_stays(app, console):
    await console.many(*opening("kk"), "2")
    await console.say("/frobnicate")
    assert console.last[0].text == "/frobnicate командасын білмеймін."
    assert "/forget" in console.last[1].text and console.last[2].prompt == "q2"


async def test_too_long_other_text_is_refused_and_the_choice_is_kept(app, console):
    await console.many(*opening("ru"), "2", "1", "1", "4")
    await console.say("слово " * 1000)
    assert console.last[0].text == "Слишком длинный текст: уложитесь, пожалуйста, в 300 символов."
    await console.say("по почте")
    assert (await stored(app)).answers["q4"].other == "по почте"


async def test_bad_input_before_a_language_is_chosen_gets_the_menu_again(app, console):
    await console.say("/start")
    await console.say("привет")
    assert console.last[-1].prompt == "language"
    await console.say("5")
    assert console.last[-1].prompt == "language"
    await console.say("1")
    assert console.last[0].prompt == "consent"


def tap(console, message, key, event_id=None):
    return Inbound("console", console.user_id, event_id or uuid.uuid4().hex,
                   tap=Tap(message.prompt, message.token, key))


async def test_multi_select_by_taps_refuses_a_fourth_pick_and_keeps_the_three(app, console):
    [q2] = await console.many(*opening("ru"), "2")
    shown = q2
    for key in ("1", "4", "6"):
        [shown] = await console.deliver(tap(console, q2, key))
        assert shown.kind == "edit"
    [refused] = await console.deliver(tap(console, q2, "7"))
    assert refused.kind == NOTICE and refused.text.startswith("Можно выбрать не более 3 вариантов.")
    assert (await stored(app)).picks == ["1", "4", "6"]
    [shown] = await console.deliver(tap(console, q2, "4"))  # untick one, then the 7 fits
    [shown] = await console.deliver(tap(console, q2, "7"))
    assert [c.key for c in shown.choices if c.picked] == ["1", "6", "7"]
    [q3] = await console.deliver(tap(console, q2, "done"))
    assert q3.prompt == "q3" and (await stored(app)).answers["q2"].codes == ("1", "6", "7")


async def test_a_stale_or_forged_tap_changes_nothing(app, console):
    [q1] = await console.many(*opening("ru"))
    await console.deliver(tap(console, q1, "2"))
    before = await stored(app)
    [again] = await console.deliver(tap(console, q1, "3", event_id="double-tap"))  # the same button, tapped twice
    forged = Inbound("console", console.user_id, "forged", tap=Tap("q2", before.token, "99"))
    [nonsense] = await console.deliver(forged)
    assert again.kind == NOTICE and again.text == "Эта кнопка уже не действует."
    assert nonsense.kind == NOTICE
    after = await stored(app)
    assert after.answers == before.answers and after.node == "q2"

"""Complaints through the console channel: filing with a photo and a place, the tracking number, a staff status
change pushed to the citizen in their language, the similar-report suggestion, and bad input."""
from __future__ import annotations

import argparse
import dataclasses
import io
import re
import struct
import zlib

import pytest

from bot import staff
from bot.service import build
from handlers.deployment import BUILTIN
from handlers.events import NOTICE
from handlers.i18n import gettext_for
from storage import complaints
from tests.conftest import Transcript, stored_session
from tests.survey_paths import LANGUAGE_NUMBER

NUMBER = re.compile(r"KZ-2026-\d{4}-\d{4}")
ABAY = "43.2380, 76.9450"
NEAR_ABAY = "43.2385, 76.9452"  # about 60 m away
DESCRIPTION = "Глубокая яма на проезжей части, машины объезжают по встречке"


def png() -> bytes:
    raw = b"".join(b"\x00" + b"\x10\x80\x10" * 8 for _ in range(8))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 8, 8, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


@pytest.fixture
def photo(tmp_path):
    path = tmp_path / "pothole.png"
    path.write_bytes(png())
    return path


def citizen(app, user: str) -> Transcript:
    return Transcript(app.service, user_id=user, files=app.files)


async def file_complaint(console, language="kk", place=ABAY, photo=None, category="1", description=DESCRIPTION):
    await console.many("/complaint", LANGUAGE_NUMBER[language], category, description)
    await console.say(f"[photo] {photo}" if photo else "1")  # 1 = Skip
    await console.say(f"[location] {place}" if "," in place and place[0].isdigit() else place)
    return console.last


async def staff_command(settings, *argv: str) -> tuple[int, str]:
    parser = argparse.ArgumentParser()
    staff.parser(parser.add_subparsers(dest="command"))
    out = io.StringIO()
    code = await staff.run(parser.parse_args(["staff", *argv]), settings, out=out)
    return code, out.getvalue()


@pytest.fixture
def staff_settings(settings):
    return dataclasses.replace(settings, staff=frozenset({"anna"}))


async def test_a_complaint_with_photo_and_location_gets_a_tracking_number(app, photo):
    console = citizen(app, "aigerim")
    summary = (await file_complaint(console, "kk", photo=photo))[-1]
    _ = gettext_for("kk")
    assert summary.photo and _("Photo: {photo}").format(photo=_("attached")) in summary.text
    assert DESCRIPTION in summary.text and "43.23800, 76.94500" in summary.text
    await console.say("1")  # Send
    number = NUMBER.search(console.text).group(0)
    assert console.last[0].text == _(
        "Your report is registered. Its number is {number}. We will write to you here when its status changes. "
        "To check it: /status {number}").format(number=number)
    view = (await complaints.staff_view(app.engine, number)).complaint
    assert (view.service_code, view.description, view.latitude, view.longitude) == ("roads", DESCRIPTION, 43.238, 76.945)
    assert app.files.read(view.photo) == png()
    await console.say(f"/status {number.lower().replace('-', ' ')}")
    assert number in console.text and DESCRIPTION in console.text  # the author sees their own text
    assert (await stored_session(app, "aigerim")).flow is None


async def test_staff_status_change_is_pushed_in_the_citizens_language(app, staff_settings):
    kk, ky = citizen(app, "kk-user"), citizen(app, "ky-user")
    await file_complaint(kk, "kk", place="Абай даңғылы 10")
    await kk.say("1")
    number = NUMBER.search(kk.text).group(0)
    await ky.many("/complaint", "3", "2", "Фонарь не горит уже две недели, очень темно", "1", "Абая 150")
    await ky.say("1")
    other = NUMBER.search(ky.text).group(0)

    code, _out = await staff_command(dataclasses.replace(staff_settings, staff=frozenset()), "--as", "anna",
                                     "complaint", "set-status", number, "in_progress")
    assert code == 2  # not on the staff list: refused, nothing changed
    assert (await complaints.staff_view(app.engine, number)).complaint.state == "submitted"

    code, out = await staff_command(staff_settings, "--as", "anna", "complaint", "set-status", number, "in_progress",
                                    "--note", "Бригада выехала")
    assert code == 0 and number in out
    code, _out = await staff_command(staff_settings, "--as", "anna", "complaint", "set-status", other, "rejected")
    assert code == 1  # a rejection needs a reason
    await staff_command(staff_settings, "--as", "anna", "complaint", "set-status", other, "rejected",
                        "--note", "Это частная территория")
    app.notifier.add("console", kk.push)
    app.notifier.add("console", lambda address, message: (kk if address == "kk-user" else ky).push(address, message))
    assert await app.notifier.deliver_once() == 2
    assert await app.notifier.deliver_once() == 0  # delivered once, not again
    kk_said, ky_said = kk.out.getvalue(), ky.out.getvalue()
    assert gettext_for("kk")("The status of report {number} has changed: {state}.").format(
        number=number, state="Қаралуда") in kk_said and "Бригада выехала" in kk_said
    assert gettext_for("ky")("The status of report {number} has changed: {state}.").format(
        number=other, state="Четке кагылды") in ky_said and "Это частная территория" in ky_said
    code, out = await staff_command(staff_settings, "--as", "anna", "complaint", "show", number)
    assert "anna" in out and "Бригада выехала" in out


async def test_a_similar_open_report_nearby_can_be_supported_instead(app, staff_settings):
    first = citizen(app, "first")
    await file_complaint(first, "ru")
    await first.say("1")
    number = NUMBER.search(first.text).group(0)

    second = citizen(app, "second")
    offer = (await file_complaint(second, "ru", place=NEAR_ABAY))[-1]
    assert number in offer.text and DESCRIPTION not in offer.text  # someone else's text is not shown
    await second.say("1")  # Support it
    assert number in second.text
    assert (await complaints.query(app.engine, numbers=[number]))[0].supporters == 1
    assert len(await complaints.query(app.engine)) == 1  # no duplicate filed

    third = citizen(app, "third")  # a different category at the same spot is not a duplicate
    summary = (await file_complaint(third, "ru", place=NEAR_ABAY, category="2"))[-1]
    assert summary.prompt == "c.summary"

    await staff_command(staff_settings, "--as", "anna", "complaint", "set-status", number, "resolved")
    app.notifier.add("console", lambda address, message: {"first": first, "second": second}[address].push(
        address, message))
    assert await app.notifier.deliver_once() == 2  # the author and the supporter both hear it


async def test_filing_anyway_after_the_suggestion(app):
    first = citizen(app, "first")
    await file_complaint(first, "ru")
    await first.say("1")
    second = citizen(app, "second")
    await file_complaint(second, "ru", place=NEAR_ABAY)
    await second.say("2")  # File mine anyway
    assert second.last[-1].prompt == "c.summary"
    await second.say("1")
    assert len(await complaints.query(app.engine)) == 2


async def test_edit_from_the_summary_changes_one_field(app, photo):
    console = citizen(app, "editor")
    await file_complaint(console, "ru", photo=photo)
    await console.many("2", "2")  # Edit → Description
    await console.say("Яма стала ещё больше, уже две ямы рядом")
    assert console.last[-1].prompt == "c.summary" and "уже две ямы" in console.last[-1].text
    assert console.last[-1].photo  # the photo given earlier is still there


BAD = [
    ("", "The description is too short: please write at least {low} characters."),
    ("ы" * 5000, "The description is too long ({count} characters). Please shorten it to {high} characters and "
                 "send it again."),
]


@pytest.mark.parametrize("text,problem", BAD, ids=["empty", "5000"])
async def test_bad_descriptions_are_refused_and_nothing_is_lost(app, text, problem):
    console = citizen(app, "bad")
    await console.many("/complaint", "3", "2")
    await console.say(text)
    notice, again = console.last[0], console.last[-1]
    _ = gettext_for("ky")
    assert notice.kind == NOTICE and notice.text == _(problem).format(low=10, count=len(text), high=2000)
    assert again.prompt == "c.description"
    assert (await stored_session(app, "bad", "console")).draft == {"category": "lighting"}


async def test_bad_photos_and_places_are_refused_and_nothing_is_lost(app, tmp_path):
    big, video = tmp_path / "big.jpg", tmp_path / "clip.mp4"
    with big.open("wb") as handle:
        handle.truncate(12 * 1024 * 1024)
    video.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 100)
    console = citizen(app, "bad")
    await console.many("/complaint", "2", "1", DESCRIPTION)
    _ = gettext_for("ru")
    await console.say(f"[photo] {big}")
    assert console.last[0].text.startswith(_(
        "The photo is too large ({size} MB). The limit is 10 MB: please send a smaller photo.").format(size="12,0"))
    await console.say(f"[photo] {video}")
    assert console.last[0].text.startswith(_("That is a video. Please send a photo instead."))
    assert console.last[-1].prompt == "c.photo"
    await console.say("1")  # Skip
    await console.say("[location] 51.1694, 71.4491")  # Astana, not Almaty
    assert console.last[0].text == _("This place is outside {city}. Share a location in the city, or type the address.").format(city="Алматы")
    draft = (await stored_session(app, "bad", "console")).draft
    assert draft["description"] == DESCRIPTION and draft["category"] == "roads"
    await console.say(f"[location] {ABAY}")
    assert console.last[-1].prompt == "c.summary"


async def test_status_of_a_forged_or_foreign_number_shows_nothing_private(app):
    owner = citizen(app, "owner")
    await file_complaint(owner, "ru", place="ул. Абая 10, мой телефон +7 701 123 45 67")
    await owner.say("1")
    number = NUMBER.search(owner.text).group(0)
    stranger = citizen(app, "stranger")
    await stranger.many("/complaint", "2", "/cancel")
    _ = gettext_for("ru")
    await stranger.say("/status KZ-2026-0000-0000")
    assert stranger.last[0].text.startswith(_("No report with the number {number} was found.").format(
        number="KZ-2026-0000-0000"))
    await stranger.say("/status '; DROP TABLE complaints; --")
    assert stranger.last[0].text.startswith(_("That is not a report number."))
    await stranger.say(f"/status {number}")
    assert number in stranger.text and DESCRIPTION not in stranger.text and "123 45 67" not in stranger.text


async def test_the_daily_limit_is_explained(app, settings, tmp_path):
    city = tmp_path / "tiny.yaml"
    city.write_text((BUILTIN / "almaty.yaml").read_text(encoding="utf-8")
                    .replace("complaints_per_day: 10", "complaints_per_day: 1"), encoding="utf-8")
    limited = await build(dataclasses.replace(settings, city=str(city)))
    try:
        console = citizen(limited, "busy")
        await file_complaint(console, "ru")
        await console.say("1")
        await console.say("/complaint")
        assert console.last[0].text == gettext_for("ru")(
            "You have sent {limit} reports in the last 24 hours, the daily limit. Please try again tomorrow."
        ).format(limit=1)
    finally:
        await limited.close()


async def test_a_draft_survives_a_detour_and_a_restart(app, settings):
    console = citizen(app, "patient")
    await console.many("/complaint", "2", "4", DESCRIPTION, "/menu")
    assert console.last[-1].prompt == "menu"
    await app.close()
    again = await build(settings)
    try:
        console = citizen(again, "patient")
        await console.say("/complaint")
        assert console.last[-1].prompt == "c.photo"
        await console.many("1", "Толе би 59")
        assert DESCRIPTION in console.last[-1].text and "Толе би 59" in console.last[-1].text
    finally:
        await again.close()


async def test_forget_keeps_the_complaint_but_not_the_citizen(app, staff_settings):
    console = citizen(app, "leaving")
    await file_complaint(console, "ru")
    await console.say("1")
    number = NUMBER.search(console.text).group(0)
    await console.many("/forget", "1")
    view = await complaints.staff_view(app.engine, number)
    assert view.complaint.description == DESCRIPTION and not view.complaint.mine
    await staff_command(staff_settings, "--as", "anna", "complaint", "set-status", number, "acknowledged")
    app.notifier.add("console", console.push)
    assert await app.notifier.deliver_once() == 0  # nobody to tell any more


async def test_the_menu_after_a_report_leads_to_the_survey_without_asking_the_language_again(app):
    console = citizen(app, "newcomer")
    await file_complaint(console, "ky", place="Абая 10")
    await console.say("1")
    menu = console.last[-1]
    assert menu.prompt == "menu" and [c.key for c in menu.choices][:2] == ["survey", "complaint"]
    await console.say("1")  # Take the survey
    assert console.last[-1].prompt == "consent" and console.last[-1].text.startswith(app.survey.intro("ky"))

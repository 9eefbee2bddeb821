"""Every user-visible string is translated: gettext catalogs for the bot's own words, the definition for the survey."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from babel.messages.pofile import read_po

from handlers.survey.definition import BUILTIN, load

ROOT = Path(__file__).resolve().parent.parent
LOCALES = ROOT / "locales"
PLACEHOLDER = re.compile(r"\{[a-z_]+\}")


def catalog(language: str):
    with open(LOCALES / language / "LC_MESSAGES" / "messages.po", "rb") as fh:
        return read_po(fh, locale=language)


def template_ids(path: Path) -> set[str]:
    with open(path, "rb") as fh:
        return {m.id for m in read_po(fh) if m.id}


def test_template_matches_the_source(tmp_path):
    """A string added in code but not extracted would reach citizens in English."""
    fresh = tmp_path / "messages.pot"
    subprocess.run(
        [Path(sys.executable).with_name("pybabel"), "extract", "-F", "locales/babel.cfg", "-k", "_", "-k", "N_",
         "-o", str(fresh), "bot", "handlers", "analysis"],
        cwd=ROOT, check=True, capture_output=True,
    )
    assert template_ids(fresh) == template_ids(LOCALES / "messages.pot")


@pytest.mark.parametrize("language", ["kk", "ru", "ky", "en"])
def test_catalog_is_complete(language):
    ids = template_ids(LOCALES / "messages.pot")
    entries = {m.id: m for m in catalog(language) if m.id}
    assert set(entries) == ids, "catalog out of date: run `make extract-messages` and translate"
    for msgid, message in entries.items():
        assert message.string and message.string.strip(), f"{language}: empty translation of {msgid!r}"
        assert not message.fuzzy, f"{language}: fuzzy translation of {msgid!r}"
        assert sorted(PLACEHOLDER.findall(message.string)) == sorted(PLACEHOLDER.findall(msgid)), msgid
    assert "#, fuzzy" not in (LOCALES / language / "LC_MESSAGES" / "messages.po").read_text(encoding="utf-8")


SPELLED_ALIKE = {"som"}  # the Kyrgyz currency is «сом» in ru, kk and ky alike


@pytest.mark.parametrize("language", ["kk", "ky"])
def test_catalog_is_not_english_or_russian(language):
    ru = {m.id: m.string for m in catalog("ru") if m.id}
    same = [m.id for m in catalog(language) if m.id and m.string in (m.id, ru[m.id]) and not m.id.isupper()
            and m.id not in SPELLED_ALIKE]
    assert same == []


def _texts(node, path=""):
    if isinstance(node, dict):
        if "ru" in node:
            yield path, node
        for key, value in node.items():
            yield from _texts(value, f"{path}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _texts(value, f"{path}[{i}]")


def test_every_survey_text_exists_in_every_language():
    doc = yaml.safe_load(BUILTIN.read_text(encoding="utf-8"))
    texts = list(_texts(doc))
    assert len(texts) > 100
    for path, text in texts:
        for language in ("ru", "kk", "ky", "en"):
            value = str(text.get(language) or "").strip()
            assert value and value != "TODO", f"{path}: no {language} text"


LOOKALIKES = re.compile("[a-zA-Z\u0259\u018f\u0457\u0454\u04ca]")
# Latin that belongs in a Cyrillic message: commands and options, placeholders, and all-capital names (JPEG, PIKIR_STAFF).
ALLOWED_LATIN = re.compile(r"--?[a-z]+|/[a-z]+|\{[a-z_]+(?::[^}]*)?\}|\b[A-Z][A-Z0-9_]{2,}\b")


def test_kazakh_and_kyrgyz_use_cyrillic_letters_only():
    doc = yaml.safe_load(BUILTIN.read_text(encoding="utf-8"))
    for path, text in _texts(doc):
        for language in ("kk", "ky"):
            stripped = re.sub(r"(?i)smart city|e?gov", "", text[language])
            assert not LOOKALIKES.search(stripped), f"{path} {language}: {text[language]!r}"
    for language in ("kk", "ky"):
        for message in catalog(language):
            if message.id:
                assert not LOOKALIKES.search(re.sub(ALLOWED_LATIN, "", message.string)), message.string


@pytest.mark.parametrize("country,body,absent", [("kz", "акимат", "мэри"), ("kg", "мэри", "акимат")])
def test_the_city_body_follows_the_deployment(country, body, absent):
    survey = load(BUILTIN, country)
    for text in (survey.intro("ru"), survey.question("q3").option("2").label("ru"), survey.question("s20").text("ru")):
        assert body in text and absent not in text
    kyrgyz = " ".join((survey.intro("ky"), survey.question("s20").text("ky")))
    assert ("мэрия" in kyrgyz) == (country == "kg") and "акимиат" not in kyrgyz


def test_the_instrument_has_32_questions_after_consent():
    survey = load(BUILTIN, "kz")
    assert survey.total == 32
    assert [q.id for q in survey.questions][:5] == ["q1", "q2", "q3", "q4", "q5"]
    assert survey.question("q2").max == 3 and survey.question("q1").branch == {"4": "q7"}
    assert survey.question("q2").option("7").reconstructed
    assert len(survey.question("city").options) == 19 and survey.question("city").options[-1].code == "99"

"""Research exports (CSV, XLSX, SPSS .sav, Parquet) and the codebook, from surveys typed through the console,
on SQLite and PostgreSQL. Labels are checked against the survey definition, not against analysis/labels.py."""
from __future__ import annotations

import asyncio
import csv
import json
import shutil
import subprocess
import zipfile
from datetime import datetime, timezone
from pathlib import Path

import openpyxl
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pyreadstat
import pytest

from analysis.__main__ import main
from analysis.codebook import as_csv, as_markdown
from analysis.export import Selection, export_csv, export_parquet, export_sav, export_xlsx
from analysis.factor_key import load_factor_key
from analysis.labels import dictionary, scoring_key
from analysis.responses import columns, responses
from storage.pseudonyms import pseudonym
from tests.conftest import Transcript
from tests.survey_paths import SKIP, opening

OTHER_TEXT = "Әкімдікке өтініш жазамын, қала үшін маңызды"
# s1..s21 of the Kazakh respondent, chosen so that the factor means are not round numbers.
STATEMENTS = [3, 4, 2, 5, 1, 4, 5, 2, 3, 1, 2, 4, 5, 3, 4, 2, 5, 1, 3, 4, 5]
# By hand from Table Е.1: F1 s15 s16 s17 s19 s20 s21 = (4+2+5+3+4+5)/6 · F2 s10..s13 = (1+2+4+5)/4
# F3 s6 s7 = (4+5)/2 · F4 s2 s4 = (4+5)/2 · F5 s3 s5 = (2+1)/2
KAZAKH_SCORES = {"F1": 23 / 6, "F2": 3.0, "F3": 4.5, "F4": 4.5, "F5": 1.5}
# user id -> (language, every answer after consent); the profile is q7 q8 city q10 q11 q12
PEOPLE = {
    "telegram-5550001234": ("kk", ["2", "1,3,5", "2,3", "4", OTHER_TEXT, "2", *map(str, STATEMENTS),
                                   "2", "1", "3", "2", "2", "1"]),
    "+77011234567": ("ru", ["1", "2", "1", "1", "3", *["3"] * 21, "2", "2", "1", "1", "2", "2"]),
    "Айгерим Сапарова": ("ky", SKIP),  # q1 = 4 jumps to the profile; city 1
}
SKIPPED = [f"q2_{i}" for i in range(1, 9)] + [f"q3_{i}" for i in range(1, 6)] + ["q4", "q5"] + [
    f"s{i}" for i in range(1, 22)] + ["F1", "F2", "F3", "F4", "F5"]
NOT_ASKED = {"ru": "Не задавался (пропуск по ветвлению)", "kk": "Қойылмаған (тармақталу бойынша өткізіп жіберілген)"}
ORDINAL = {"q1", "q7", "q11", *(f"s{i}" for i in range(1, 22))}


@pytest.fixture
async def people(app):
    """Three completed responses, one per language: kk with an "other" text, ru, and ky with q1 = 4."""
    for user, (language, answers) in PEOPLE.items():
        await Transcript(app.service, user_id=user).many(*opening(language), *answers)
    return PEOPLE


def export_names(app) -> list[str]:
    return columns(app.survey) + ["F1", "F2", "F3", "F4", "F5"]


async def rows_of_csv(app, out: Path, **selection) -> list[dict]:
    await export_csv(app.engine, app.survey, out, selection=Selection(**selection))
    with open(out, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def by_language(rows) -> dict:
    return {row["language"]: row for row in rows}


def assert_within_spss_limit(label: str, full: str, limit: int, tail: str = "") -> None:
    """SPSS stores labels in a limited number of bytes (Cyrillic takes two each): a label that fits must be whole;
    a longer one must be the start of the full text, "…", then the whole `tail` (the option of a multi-select)."""
    if len(full.encode()) <= limit:
        assert label == full
        return
    assert len(label.encode()) <= limit and label.endswith(tail), label
    head = label[: len(label) - len(tail)]
    assert head.endswith("…") and full.startswith(head[:-1]) and len(head) > 20, label


# --- CSV and factor scores -----------------------------------------------------------------------------------

async def test_csv_has_scores_and_empty_cells_where_not_asked(app, people, tmp_path):
    rows = await rows_of_csv(app, tmp_path / "all.csv")
    assert list(rows[0]) == export_names(app) and len(rows) == 3
    kk, ru, ky = (by_language(rows)[lang] for lang in ("kk", "ru", "ky"))
    assert ky["q1"] == "4" and ky["q7"] == "1" and all(ky[c] == "" for c in SKIPPED)
    assert kk["q4"] == "4" and kk["q4_other"] == OTHER_TEXT and kk["q5_other"] == ""
    assert [kk[f"s{i}"] for i in range(1, 22)] == [str(s) for s in STATEMENTS]
    for factor, mean in KAZAKH_SCORES.items():
        assert float(kk[factor]) == pytest.approx(mean, abs=1e-12)
    assert [float(ru[f]) for f in KAZAKH_SCORES] == [3.0] * 5
    assert kk["completed_at"].endswith("+00:00")  # UTC on both databases


async def test_filters_select_the_right_rows(app, people, tmp_path):
    ru_respondent = pseudonym(app.settings.secret, "console", "+77011234567")
    async with app.engine.begin() as connection:  # an older response, for --since
        old = datetime(2020, 3, 1, 9, 30, tzinfo=timezone.utc)
        await connection.execute(responses.update().where(responses.c.respondent == ru_respondent).values(
            started_at=old, completed_at=old))

    async def languages(**selection):
        return sorted(row["language"] for row in await rows_of_csv(app, tmp_path / "f.csv", **selection))

    assert await languages() == ["kk", "ky", "ru"]
    assert await languages(since=datetime(2021, 1, 1)) == ["kk", "ky"]
    assert await languages(since=datetime(2020, 1, 1).date()) == ["kk", "ky", "ru"]
    assert await languages(cities=("3",)) == ["kk"]
    assert await languages(cities=("1", "99")) == ["ky", "ru"]
    assert await languages(languages=("kk", "ky")) == ["kk", "ky"]
    assert await languages(languages=("ru",), cities=("3",)) == []
    assert await languages(version=1) == ["kk", "ky", "ru"] and await languages(version=2) == []


# --- SPSS --------------------------------------------------------------------------------------------------

async def test_sav_keeps_labels_measures_and_declares_not_asked_missing(app, people, tmp_path):
    out = tmp_path / "responses.sav"
    assert await export_sav(app.engine, app.survey, out) == 3
    data, meta = pyreadstat.read_sav(out, user_missing=True)
    survey = app.survey
    assert meta.column_names == export_names(app)
    labels, values = meta.column_names_to_labels, meta.variable_value_labels

    for q in survey.questions:
        text = q.text("ru")
        if q.kind == "multi":
            for o in q.options:
                name, tail = f"{q.id}_{o.code}", " — " + o.label("ru")
                assert_within_spss_limit(labels[name], text + tail, 255, tail)
                assert values[name] == {0: "не выбрано", 1: "выбрано", -1: NOT_ASKED["ru"]}
        else:
            assert_within_spss_limit(labels[q.id], text, 255)
            coded = {float(o.code): o.label("ru") for o in q.options}
            got = {code: label for code, label in values[q.id].items() if code != -1}
            assert got.keys() == coded.keys(), q.id
            for code, label in got.items():
                assert_within_spss_limit(label, coded[code], 120)
        if any(o.other for o in q.options):
            assert_within_spss_limit(labels[f"{q.id}_other"], f"{text}: другое (текст)", 255, ": другое (текст)")
    assert values["s1"][1] == "абсолютно не согласен" and values["s1"][5] == "абсолютно согласен"
    assert values["q8"] == {1: "Мужской", 2: "Женский"}
    assert set(values["city"]) == {*range(1, 19), 99} and values["city"][99] == "Другой город (указать)"
    assert labels["q2_3"] == survey.question("q2").text("ru") + " — Будут решены транспортные проблемы города"
    assert labels["q8"] == "Указать пол респондента" and labels["s1"] == survey.question("s1").text("ru")
    assert labels["F1"] == "Готовность к взаимодействию" and labels["completed_at"]
    assert all(labels[name] for name in meta.column_names)

    measures = meta.variable_measure
    for name in meta.column_names:
        expected = "ordinal" if name in ORDINAL else "scale" if name in (
            "F1", "F2", "F3", "F4", "F5", "started_at", "completed_at") else "nominal"
        assert measures[name] == expected, name

    ky = data[data.language == "ky"].iloc[0]
    assert all(ky[c] == -1 for c in SKIPPED) and ky["q7"] == 1 and ky["q4_other"] == ""
    assert all(meta.missing_ranges[c] == [{"lo": -1.0, "hi": -1.0}] for c in SKIPPED)
    assert "q7" not in meta.missing_ranges and values["F3"] == {-1: NOT_ASKED["ru"]}
    kk = data[data.language == "kk"].iloc[0]
    assert kk["q4_other"] == OTHER_TEXT and meta.original_variable_types["q4_other"].startswith("A")
    assert kk["F1"] == pytest.approx(KAZAKH_SCORES["F1"]) and kk["q2_2"] == 0 and kk["q2_3"] == 1
    assert meta.original_variable_types["completed_at"].startswith("DATETIME")
    assert isinstance(kk["completed_at"], (datetime, pd.Timestamp)) and kk["completed_at"].year >= 2026

    plain, _ = pyreadstat.read_sav(out)  # without user_missing, SPSS's view: the -1 cells are missing
    assert plain[plain.language == "ky"][SKIPPED].isna().all(axis=None)


async def test_sav_labels_in_kazakh(app, people, tmp_path):
    out = tmp_path / "kk.sav"
    await export_sav(app.engine, app.survey, out, labels="kk", selection=Selection(languages=("kk", "ky")))
    data, meta = pyreadstat.read_sav(out, user_missing=True)
    assert sorted(data.language) == ["kk", "ky"]
    q8, s20 = app.survey.question("q8"), app.survey.question("s20")
    assert meta.column_names_to_labels["q8"] == q8.text("kk") == "Жынысыңыз"
    assert meta.column_names_to_labels["s20"] == s20.text("kk")
    assert meta.column_names_to_labels["F1"] == "Өзара әрекеттесуге дайындық"
    assert meta.column_names_to_labels["q4_other"].endswith(": басқа (мәтін)")
    assert meta.variable_value_labels["q8"] == {1: "Ер", 2: "Әйел"}
    assert meta.variable_value_labels["q2_1"] == {0: "таңдалмаған", 1: "таңдалған", -1: NOT_ASKED["kk"]}
    assert meta.variable_value_labels["s1"][5] == "Толығымен келісемін"


async def test_empty_export_still_has_the_dictionary(app, tmp_path):
    for export, name in ((export_sav, "e.sav"), (export_xlsx, "e.xlsx"), (export_parquet, "e.parquet"),
                         (export_csv, "e.csv")):
        assert await export(app.engine, app.survey, tmp_path / name) == 0
    assert pyreadstat.read_sav(tmp_path / "e.sav")[1].column_names == export_names(app)
    assert list(pd.read_parquet(tmp_path / "e.parquet").columns) == export_names(app)


@pytest.mark.skipif(shutil.which("pspp") is None, reason="PSPP is not installed")
async def test_pspp_opens_the_sav(app, people, tmp_path):
    out = tmp_path / "responses.sav"
    await export_sav(app.engine, app.survey, out, labels="kk")
    syntax = tmp_path / "show.sps"
    syntax.write_text(f'GET FILE="{out}".\nDISPLAY DICTIONARY.\nLIST VARIABLES=language q1 q2_1 q4_other F1.\n',
                      encoding="utf-8")
    listing = tmp_path / "listing.txt"
    run = subprocess.run(["pspp", "-O", "format=txt", "-O", "width=1000", "-o", str(listing), str(syntax)],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stdout + run.stderr
    text = " ".join(listing.read_text(encoding="utf-8").split())  # PSPP wraps long cells over lines
    for expected in ("Жынысыңыз", "Әйел", "Толығымен келісемін", "Ordinal", "Nominal", "Scale", "DATETIME",
                     "Өзара әрекеттесуге дайындық", "User-missing"):
        assert expected in text, expected
    assert " ".join(OTHER_TEXT.split()[:2]) in text and "-1" in text


# --- XLSX and Parquet --------------------------------------------------------------------------------------

async def test_xlsx_has_data_and_codebook(app, people, tmp_path):
    out = tmp_path / "responses.xlsx"
    assert await export_xlsx(app.engine, app.survey, out) == 3
    book = openpyxl.load_workbook(out, read_only=True)
    assert book.sheetnames == ["data", "codebook"]
    codebook = list(book["codebook"].iter_rows(values_only=True))
    assert codebook[0][:5] == ("name", "label", "type", "measure", "values")
    assert [row[0] for row in codebook[1:]] == export_names(app)
    by_name = {row[0]: row for row in codebook[1:]}
    assert by_name["q8"][4] == "1 = Мужской; 2 = Женский" and "q1 = 4" in by_name["s1"][5]
    book.close()

    data = pd.read_excel(out, sheet_name="data")
    expected = pd.DataFrame(await rows_of_csv(app, tmp_path / "same.csv"))
    assert list(data.columns) == export_names(app)
    ky, kk = (data[data.language == lang].iloc[0] for lang in ("ky", "kk"))
    assert ky[SKIPPED].isna().all() and ky["q1"] == 4
    assert kk["q4_other"] == OTHER_TEXT and kk["F1"] == pytest.approx(KAZAKH_SCORES["F1"])
    for name in columns(app.survey)[5:]:  # every coded answer round-trips
        for lang in ("kk", "ru", "ky"):
            want = expected[expected.language == lang].iloc[0][name]
            got = data[data.language == lang].iloc[0][name]
            assert (want == "" and pd.isna(got)) or str(got) == want or float(got) == float(want), (name, lang)
    assert isinstance(kk["completed_at"], datetime)


async def test_parquet_round_trips_with_labels_in_the_metadata(app, people, tmp_path):
    out = tmp_path / "responses.parquet"
    assert await export_parquet(app.engine, app.survey, out, labels="ky") == 3
    frame = pd.read_parquet(out)
    assert list(frame.columns) == export_names(app)
    ky, kk = (frame[frame.language == lang].iloc[0] for lang in ("ky", "kk"))
    assert frame[SKIPPED].notna().sum(axis=1).tolist().count(0) == 1 and ky[SKIPPED].isna().all()
    assert kk["q4_other"] == OTHER_TEXT and kk["F4"] == KAZAKH_SCORES["F4"] and kk["city"] == 3
    assert str(frame.completed_at.dtype).startswith("datetime64") and "UTC" in str(frame.completed_at.dtype)

    schema = pq.read_schema(out)
    assert str(schema.field("q1").type) == "int8" and str(schema.field("F1").type) == "double"
    meta = json.loads(schema.metadata[b"pikir"])
    assert meta["labels_language"] == "ky" and list(meta["columns"]) == export_names(app)
    q8 = meta["columns"]["q8"]
    assert q8["label"] == app.survey.question("q8").text("ky") and q8["values"] == {"1": "Эркек", "2": "Аял"}
    assert meta["columns"]["s1"]["measure"] == "ordinal" and meta["columns"]["F1"]["measure"] == "scale"
    assert meta["columns"]["q2_1"]["values"] == {"0": "тандалган эмес", "1": "тандалган"}
    assert schema.field("q8").metadata[b"label"].decode() == "Жынысыңыз"


# --- Codebook ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("language", ["ru", "kk", "ky", "en"])
def test_codebook_lists_every_export_column(language):
    from handlers.survey.definition import BUILTIN, load

    survey = load(BUILTIN, "kz")
    variables = dictionary(survey, load_factor_key(), language)
    names = columns(survey) + ["F1", "F2", "F3", "F4", "F5"]
    table = list(csv.DictReader(as_csv(variables, language).splitlines()))
    assert [row["name"] for row in table] == names
    assert all(row["label"] and row["type"] and row["measure"] for row in table)
    entry = {row["name"]: row for row in table}
    assert entry["F1"]["notes"] == "F1 = mean of s15 s16 s17 s19 s20 s21, empty unless all answered"
    assert entry["s5"]["missing"].startswith("empty when q1 = 4 (not asked)")
    assert entry["q1"]["missing"] == "" and entry["s1"]["label"] == survey.question("s1").text(language)
    assert entry["q8"]["values"] == "; ".join(f"{o.code} = {o.label(language)}" for o in survey.question("q8").options)
    markdown = as_markdown(variables, language)
    assert all(f"| {name} |" in markdown for name in names)


# --- Anonymity and the command line ------------------------------------------------------------------------

async def test_no_export_contains_user_ids_or_pseudonyms(app, people, tmp_path):
    files = {}
    for export, name in ((export_csv, "a.csv"), (export_xlsx, "a.xlsx"), (export_sav, "a.sav"),
                         (export_parquet, "a.parquet")):
        await export(app.engine, app.survey, tmp_path / name)
        files[name] = (tmp_path / name).read_bytes()
    with zipfile.ZipFile(tmp_path / "a.xlsx") as archive:
        files["a.xlsx"] = b"".join(archive.read(part) for part in archive.namelist())
    # Parquet pages are compressed (snappy), as the XLSX parts are zipped: search the same table uncompressed.
    plain = pa.BufferOutputStream()
    pq.write_table(pq.read_table(tmp_path / "a.parquet"), plain, compression="none")
    files["a.parquet"] += plain.getvalue().to_pybytes()
    response_ids = [row["response_id"] for row in await rows_of_csv(app, tmp_path / "ids.csv")]
    for name, content in files.items():
        # The search can see strings in this format: the response ids are there.
        assert all(rid.encode() in content for rid in response_ids), name
        for user in PEOPLE:
            secret = pseudonym(app.settings.secret, "console", user)
            for needle in (user, secret, secret[:16]):
                assert needle.encode() not in content, (name, needle)


async def test_command_line(app, people, database, tmp_path, monkeypatch, capsys):
    for name, value in database.env(tmp_path).items():
        monkeypatch.setenv(name, value)
    out = tmp_path / "cli.csv"
    argv = ["export", "--format", "csv", "--out", str(out), "--since", "2021-01-01", "--city", "1", "3",
            "--language", "kk", "--language", "ky", "--survey", "1", "--labels", "kk"]
    assert await asyncio.to_thread(main, argv) == 0  # main runs its own event loop
    assert "2 responses written" in capsys.readouterr().err
    with open(out, encoding="utf-8") as fh:
        assert sorted(row["language"] for row in csv.DictReader(fh)) == ["kk", "ky"]


def test_codebook_command(tmp_path, capsys):
    assert main(["codebook", "--format", "md", "--labels", "ky"]) == 0
    assert "| F1 | Өз ара аракеттенүүгө даярдык | float | scale |" in capsys.readouterr().out
    assert main(["codebook", "--format", "csv", "--out", str(tmp_path / "codebook.csv")]) == 0
    with open(tmp_path / "codebook.csv", encoding="utf-8") as fh:
        assert [row["name"] for row in csv.DictReader(fh)][-5:] == ["F1", "F2", "F3", "F4", "F5"]


def test_a_survey_without_the_statements_exports_without_scores():
    import yaml

    from handlers.survey.definition import BUILTIN, parse

    doc = yaml.safe_load(BUILTIN.read_text(encoding="utf-8"))
    doc["questions"] = [q for q in doc["questions"] if not q["id"].startswith("s")]
    doc["questions"][0]["branch"] = {4: "q7"}
    survey = parse(doc)
    variables = dictionary(survey, scoring_key(survey))
    assert [v.name for v in variables] == columns(survey) and "F1" not in columns(survey)

"""The results report: one self-contained HTML file (or a PDF) with the counts, a chart per question with its
base, the factor means and the factor analysis next to the source's Table Е.1."""
import base64
import html
import re
import time

import numpy as np
import pandas as pd
import pytest

from analysis.factor_key import load_factor_key
from analysis.report import MIN_EFA_N, build_report
from analysis.scores import factor_scores
from analysis.simulate_model import simulate_responses
from handlers.i18n import gettext_for
from handlers.survey.definition import BUILTIN, load

Q2 = [f"q2_{i}" for i in range(1, 9)]


@pytest.fixture(scope="module")
def survey():
    return load(BUILTIN, "kz")


@pytest.fixture(scope="module")
def sample():
    df = simulate_responses(929, seed=1)
    rng = np.random.default_rng(1)
    # the simulation has no completion time; the export does
    seconds = rng.uniform(0, 28 * 86400, len(df))
    df["completed_at"] = pd.Timestamp("2026-03-02", tz="UTC") + pd.to_timedelta(seconds, "s")
    return df


@pytest.fixture(scope="module")
def small():
    return simulate_responses(50, seed=1)


@pytest.fixture(scope="module")
def built(sample, survey, tmp_path_factory):
    start = time.perf_counter()
    path = build_report(sample, survey, tmp_path_factory.mktemp("report") / "report.html", language="ru")
    return path, time.perf_counter() - start


@pytest.fixture(scope="module")
def doc(built):
    return built[0].read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def small_kk(small, survey, tmp_path_factory):
    path = build_report(small, survey, tmp_path_factory.mktemp("report") / "small.html", language="kk")
    return path.read_text(encoding="utf-8")


def test_html_is_written_and_self_contained(built, doc):
    path, seconds = built
    assert path.is_file() and doc.startswith("<!DOCTYPE html>") and doc.rstrip().endswith("</html>")
    assert "http://" not in doc and "https://" not in doc
    assert "<script" not in doc and "<link" not in doc and "@import" not in doc and "url(" not in doc
    sources = re.findall(r'src="([^"]*)"', doc)
    assert sources and all(s.startswith("data:image/png;base64,") for s in sources)
    png = base64.b64decode(sources[0].split(",", 1)[1])
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert path.stat().st_size < 5_000_000
    assert seconds < 30  # a few seconds on a quiet machine; generous for a busy CI runner


def test_one_chart_per_question(doc, survey):
    charted = re.findall(r'<figure class="chart" id="chart-([^"]+)" data-question="([^"]+)"', doc)
    assert [q for _, q in charted] == [q.id for q in survey.questions]
    assert all(chart == q for chart, q in charted)


def base_of(doc: str, qid: str) -> int:
    found = re.findall(rf'<p class="base" data-base-for="{qid}" data-base="(\d+)">([^<]*)</p>', doc)
    assert len(found) == 1, qid
    number, text = found[0]
    assert f"n = {number}" in text.replace("\u00a0", "")
    return int(number)


def test_the_base_leaves_out_who_was_not_asked(doc, sample):
    skipped = sample["q1"] == 4
    assert 0 < skipped.sum() < len(sample)
    expected = int((~skipped & sample[Q2].notna().any(axis=1)).sum())
    assert base_of(doc, "q2") == expected == len(sample) - skipped.sum()
    assert base_of(doc, "s20") == expected
    assert base_of(doc, "q1") == base_of(doc, "q7") == len(sample)
    note = re.search(r'data-base-for="q2"[^>]*>([^<]*)<', doc).group(1)
    assert f"{gettext_for('ru')('Not asked')}: {int(skipped.sum())}" in note


def mean_cell(doc: str, factor: str) -> str:
    cells = re.findall(rf'<td(?=[^>]*data-factor="{factor}")(?=[^>]*data-group="all")(?=[^>]*data-stat="mean")'
                       r'[^>]*>([^<]+)</td>', doc)
    assert len(cells) == 1
    return cells[0]


def test_factor_means_are_the_scores_means(doc, sample):
    scores = factor_scores(sample, load_factor_key())
    for factor in ("F1", "F5"):
        assert mean_cell(doc, factor) == f"{scores[factor].mean():.2f}".replace(".", ",")


def test_factor_means_use_given_scores(sample, survey, tmp_path):
    given = sample.head(300).copy()
    given[["F1", "F2", "F3", "F4", "F5"]] = 2.5
    doc = build_report(given, survey, tmp_path / "given.html", language="en").read_text(encoding="utf-8")
    assert mean_cell(doc, "F1") == "2.50"


def test_efa_section_for_the_full_sample(doc):
    assert 'id="table-loadings"' in doc and 'id="efa-skipped"' not in doc
    for published in ("0,788", "0,814", "3\u00a0534,572", "59,16%", "4,088"):
        assert published in doc, published
    assert 'id="chart-scree"' in doc


def test_efa_is_explained_away_for_a_small_sample(small_kk, small, survey):
    assert len(small) < MIN_EFA_N
    assert 'id="efa-skipped"' in small_kk and 'id="table-loadings"' not in small_kk
    assert len(re.findall(r'data-question="', small_kk)) == len(survey.questions)


def test_kazakh_report_uses_the_definition_and_the_catalog(small_kk, survey):
    text = html.unescape(small_kk)
    assert survey.question("s20").text("kk") in text
    _ = gettext_for("kk")
    for word in ("Base", "Perception factors", "Answers by question"):
        assert _(word) != word and _(word) in text
    assert 'lang="kk"' in small_kk


def test_numbers_follow_the_language(sample, survey, tmp_path):
    en = build_report(sample.head(400), survey, tmp_path / "en.html", language="en").read_text(encoding="utf-8")
    assert "0.788" in en and "0,788" not in en and "3,534.572" in en


def test_pdf_has_several_pages(sample, survey, tmp_path):
    path = build_report(sample, survey, tmp_path / "report.pdf", language="ky")
    data = path.read_bytes()
    assert data.startswith(b"%PDF")
    assert len(re.findall(rb"/Type\s*/Page\b", data)) > 1
    assert b"http" not in data

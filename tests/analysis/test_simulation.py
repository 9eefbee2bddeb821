"""The simulator's survey logic, and that EFA on its output reproduces Table Е.1 and the published fit."""
import json
import time

import pandas as pd
import pytest

from analysis.efa import run_efa, scree_plot, to_json, to_text
from analysis.factor_key import load_factor_key
from analysis.scores import factor_scores, group_summary
from analysis.simulate_model import COLUMNS, STATEMENTS, simulate_responses

SEEDS = (1, 2, 3)
TOLERANCE = 0.03  # KMO and α against the source's 0.788 and 0.814
# With all 21 statements the congruence cannot reach 0.9 on data that keeps the published α: for α = 0.814
# over 21 statements the five unassigned ones must correlate ~0.15 with the rest, which gives them loadings of
# 0.2–0.4 on the factors, where the source vector is 0. F1 sits at ~0.88 in every sample (200 seeds:
# min over factors 0.85 ± 0.03, 2nd percentile 0.78). 0.8 still says "the same five factors".
CONGRUENCE_21 = 0.8


@pytest.fixture(scope="module")
def key():
    return load_factor_key()


@pytest.fixture(scope="module")
def samples():
    return {seed: simulate_responses(929, seed) for seed in SEEDS}


def test_columns_and_types():
    df = simulate_responses(200, 5)
    assert list(df.columns) == COLUMNS
    assert str(df["s1"].dtype) == "Int64" and str(df["q2_1"].dtype) == "Int64"
    assert df["language"].isin(["kk", "ru", "ky"]).all()


def test_deterministic_for_a_seed():
    pd.testing.assert_frame_equal(simulate_responses(500, 42), simulate_responses(500, 42))
    assert not simulate_responses(500, 42).equals(simulate_responses(500, 43))


def test_branching_and_ranges():
    df = simulate_responses(5000, 11)
    skip = df["q1"] == 4
    assert 0.12 < skip.mean() < 0.18
    asked = [c for c in COLUMNS if c.startswith(("q2_", "q3_")) or c in ("q4", "q4_other", "q5", "q5_other")]
    assert df.loc[skip, asked + STATEMENTS].isna().all().all()  # empty, not 0
    answered = df.loc[~skip]
    assert answered[STATEMENTS].notna().all().all()
    assert answered[STATEMENTS].isin([1, 2, 3, 4, 5]).all().all()
    q2 = answered[[f"q2_{i}" for i in range(1, 9)]].sum(axis=1)
    q3 = answered[[f"q3_{i}" for i in range(1, 6)]].sum(axis=1)
    assert q2.between(1, 3).all() and q3.min() >= 1
    assert answered[[f"q2_{i}" for i in range(1, 9)] + [f"q3_{i}" for i in range(1, 6)]].isin([0, 1]).all().all()
    assert ((answered["q4"] == 4) == answered["q4_other"].notna()).all()
    assert ((answered["q5"] == 5) == answered["q5_other"].notna()).all()
    assert (df["q4"] == 4).any() and (df["q5"] == 5).any()
    assert ((df["city"] == 99) == df["city_other"].notna()).all()
    assert df["city"].isin(list(range(1, 19)) + [99]).all()
    for col, top in (("q7", 3), ("q8", 2), ("q10", 3), ("q11", 2), ("q12", 2)):
        assert df[col].between(1, top).all() and df[col].notna().all()
    # the profile is asked of everyone, including those who skipped the statements
    assert df.loc[skip, ["q7", "q8", "city", "q10", "q11", "q12"]].notna().all().all()


def test_marginals_are_not_all_symmetric():
    df = simulate_responses(20000, 3)
    means = df[STATEMENTS].astype(float).mean()
    assert means.max() - means.min() > 0.5
    assert ((means > 2.5) & (means < 4.5)).all()


def test_fast_enough():
    simulate_responses(1000, 0)
    start = time.perf_counter()
    df = simulate_responses(100_000, 0)
    assert time.perf_counter() - start < 2.0
    assert len(df) == 100_000


@pytest.mark.parametrize("seed", SEEDS)
def test_efa_16_items_recovers_table(samples, key, seed):
    r = run_efa(samples[seed], key=key)
    assert r.n == samples[seed]["s1"].notna().sum()
    assert r.recovered, to_text(r)
    assert min(r.congruence.values()) >= 0.9, to_text(r)
    assert abs(r.kmo - key.fit["kmo"]) <= TOLERANCE, to_text(r)


@pytest.mark.parametrize("seed", SEEDS)
def test_efa_21_items_recovers_table(samples, key, seed):
    r = run_efa(samples[seed], items=key.all_items, key=key)
    assert r.recovered, to_text(r)
    assert min(r.congruence.values()) >= CONGRUENCE_21, to_text(r)
    assert abs(r.alpha - key.fit["cronbach_alpha"]) <= TOLERANCE, to_text(r)


def test_minres_runs_and_matches(samples, key):
    r = run_efa(samples[SEEDS[0]], method="minres", key=key)
    assert set(r.congruence) == set(key.ids)
    assert r.assignment.loc["s16", "factor"] == "F1"


def test_reports(samples, key, tmp_path):
    r = run_efa(samples[SEEDS[0]], key=key)
    text = to_text(r)
    assert "0.788" in text and "0.814" in text and "4.088" in text and "s16" in text
    doc = to_json(r)
    json.dumps(doc)
    assert doc["recovered"] is True and doc["n"] == r.n and len(doc["eigenvalues"]) == 16
    png = scree_plot(r, tmp_path / "scree.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_scores_on_simulated_data(samples, key):
    df = samples[SEEDS[0]]
    s = factor_scores(df, key)
    assert s.loc[df["q1"] == 4].isna().all().all()
    assert s.loc[df["q1"] != 4].notna().all().all()
    assert ((s.min() >= 1) & (s.max() <= 5)).all()
    g = group_summary(df, s, "language")
    assert set(g.index) <= {"kk", "ru", "ky"}
    assert g["respondents"].sum() == len(df) and g["F1_n"].sum() == (df["q1"] != 4).sum()

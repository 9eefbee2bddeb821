"""Factor scores, group summaries, α and congruence against numbers worked out by hand."""
import json
import math

import numpy as np
import pandas as pd
import pytest

from analysis.efa import cronbach_alpha, tucker_congruence
from analysis.factor_key import ENV, load_factor_key
from analysis.scores import factor_scores, group_summary

NA = np.nan
# Table Е.1: F1 s15 s16 s17 s19 s20 s21 · F2 s10 s11 s12 s13 · F3 s6 s7 · F4 s2 s4 · F5 s3 s5
# s1 s8 s9 s14 s18 belong to no factor and must not move any score.
ROWS = {
    #      q1  s1 s2 s3 s4 s5 s6 s7 s8 s9 s10 s11 s12 s13 s14 s15 s16 s17 s18 s19 s20 s21 city q7 q8
    "a": [1,   5, 2, 1, 4, 5, 3, 5, 1, 1, 4,  2,  5,  5,  1,  3,  5,  4,  1,  5,  4,  3,  1,   1, 2],
    "b": [4,  NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, 1, 3, 1],
    "c": [2,   1, 1, 2, 3, 4, 2, NA, 5, 5, 3,  3,  4,  4,  5,  2,  2,  3,  5,  3,  4,  4,  2,   2, 1],
    "d": [3,   3, 5, 5, 5, 1, 1, 1, 3, 3, 1,  1,  2,  2,  3,  1,  1,  1,  3,  1,  1,  1,  1,   2, 2],
}
COLUMNS = ["q1"] + [f"s{i}" for i in range(1, 22)] + ["city", "q7", "q8"]


@pytest.fixture(scope="module")
def key():
    return load_factor_key()


@pytest.fixture()
def df():
    frame = pd.DataFrame.from_dict(ROWS, orient="index", columns=COLUMNS)
    return frame.astype({c: "Int64" for c in COLUMNS})  # nullable codes, as exports and the simulator give


def test_key_matches_table(key):
    assert key.ids == ("F1", "F2", "F3", "F4", "F5")
    assert len(key.assigned_items) == 16 and len(key.all_items) == 21
    assert key.factor("F5").loadings == {"s5": 0.877, "s3": 0.405}
    assert key.fit["kmo"] == 0.788 and key.fit["cronbach_alpha"] == 0.814
    assert key.factor("F1").eigenvalue == 4.088


def test_key_env_override(tmp_path, monkeypatch, key):
    doc = {"factors": [{"id": "X", "loadings": {"s1": 0.5, "s2": 0.5},
                                              "eigenvalue": 2.0, "variance_pct": 10.0}], "unassigned": ["s3"]}
    path = tmp_path / "key.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    monkeypatch.setenv(ENV, str(path))
    assert load_factor_key().ids == ("X",)
    monkeypatch.setenv(ENV, str(tmp_path / "absent.json"))
    with pytest.raises(FileNotFoundError):
        load_factor_key()


def test_plain_scores_by_hand(df, key):
    s = factor_scores(df, key)
    assert list(s.columns) == ["F1", "F2", "F3", "F4", "F5"]
    # a: F1 (3+5+4+5+4+3)/6 = 24/6 · F2 (4+2+5+5)/4 · F3 (3+5)/2 · F4 (2+4)/2 · F5 (1+5)/2
    assert s.loc["a"].tolist() == pytest.approx([4.0, 4.0, 4.0, 3.0, 3.0])
    # b answered q1 = 4: no statements, every score missing
    assert s.loc["b"].isna().all()
    # c left s7 out: F3 missing, the rest scored. F1 (2+2+3+3+4+4)/6 = 18/6 · F2 (3+3+4+4)/4 · F4 (1+3)/2 · F5 (2+4)/2
    assert math.isnan(s.loc["c", "F3"])
    assert s.loc["c", ["F1", "F2", "F4", "F5"]].tolist() == pytest.approx([3.0, 3.5, 2.0, 3.0])
    # d: F4 (5+5)/2, F5 (5+1)/2, the rest all 1s
    assert s.loc["d"].tolist() == pytest.approx([1.0, 1.5, 1.0, 5.0, 3.0])


def test_weighted_scores_by_hand(df, key):
    s = factor_scores(df, key, weighted=True)
    # a, F1: (.467*3 + .778*5 + .628*4 + .731*5 + .631*4 + .643*3) / (.467+.778+.628+.731+.631+.643)
    #      = (1.401 + 3.89 + 2.512 + 3.655 + 2.524 + 1.929) / 3.878 = 15.911 / 3.878
    assert s.loc["a", "F1"] == pytest.approx(15.911 / 3.878)
    # a, F2: (.511*4 + .509*2 + .660*5 + .715*5) / 2.395 = (2.044 + 1.018 + 3.3 + 3.575) / 2.395 = 9.937 / 2.395
    assert s.loc["a", "F2"] == pytest.approx(9.937 / 2.395)
    # a, F5: (.405*1 + .877*5) / 1.282 = 4.79 / 1.282;  d, F5: (.405*5 + .877*1) / 1.282 = 2.902 / 1.282
    assert s.loc["a", "F5"] == pytest.approx(4.79 / 1.282)
    assert s.loc["d", "F5"] == pytest.approx(2.902 / 1.282)
    # equal answers give the same score whatever the weights
    assert s.loc["d", "F1"] == pytest.approx(1.0) and s.loc["d", "F4"] == pytest.approx(5.0)
    assert s.loc["b"].isna().all() and math.isnan(s.loc["c", "F3"])


def test_q1_four_wins_over_stray_answers(df, key):
    df.loc["b", [f"s{i}" for i in range(1, 22)]] = 3
    assert factor_scores(df, key).loc["b"].isna().all()


def test_float_nan_input_and_bad_codes(df, key):
    as_float = df.astype(float)  # what a CSV with empty cells reads back as
    pd.testing.assert_frame_equal(factor_scores(as_float, key), factor_scores(df, key))
    df.loc["a", "s6"] = 7
    with pytest.raises(ValueError, match="outside 1..5"):
        factor_scores(df, key)
    with pytest.raises(KeyError):
        factor_scores(df.drop(columns=["s13"]), key)


def test_group_summary_by_hand(df, key):
    s = factor_scores(df, key)
    g = group_summary(df, s, "city")
    assert list(g.index) == [1, 2]
    # city 1 = a, b, d. F1 scores 4 (a), — (b), 1 (d): mean 2.5, sd sqrt(((1.5)^2 + (1.5)^2) / 1) = sqrt(4.5)
    assert g.loc[1, "respondents"] == 3
    assert g.loc[1, "F1_n"] == 2
    assert g.loc[1, "F1_mean"] == pytest.approx(2.5)
    assert g.loc[1, "F1_sd"] == pytest.approx(math.sqrt(4.5))
    # F4: 3 (a), 5 (d): mean 4, sd sqrt(2)
    assert g.loc[1, "F4_mean"] == pytest.approx(4.0) and g.loc[1, "F4_sd"] == pytest.approx(math.sqrt(2))
    # city 2 = c alone: no F3 score (s7 missing), one F2 score 3.5 without an SD
    assert g.loc[2, "F3_n"] == 0 and math.isnan(g.loc[2, "F3_mean"])
    assert g.loc[2, "F2_n"] == 1 and g.loc[2, "F2_mean"] == pytest.approx(3.5) and math.isnan(g.loc[2, "F2_sd"])
    by_gender = group_summary(df, s, "q8")
    # q8 = 2: a and d → F5 3 and 3
    assert by_gender.loc[2, "F5_mean"] == pytest.approx(3.0) and by_gender.loc[2, "F5_sd"] == pytest.approx(0.0)
    assert by_gender.loc[1, "respondents"] == 2 and by_gender.loc[1, "F1_n"] == 1


def test_cronbach_alpha_by_hand():
    x = np.array([[1, 2, 2], [2, 2, 3], [3, 4, 3], [4, 4, 5]], dtype=float)
    # item variances (n-1): 5/3, 4/3, 4.75/3 → sum 13.75/3; totals 5, 7, 10, 13 → variance 36.75/3
    # α = 3/2 · (1 − 13.75/36.75) = 34.5/36.75 = 46/49
    assert cronbach_alpha(x) == pytest.approx(46 / 49)
    # an incomplete row is left out, not imputed
    assert cronbach_alpha(np.vstack([x, [5, np.nan, 1]])) == pytest.approx(46 / 49)


def test_tucker_congruence_by_hand():
    a = np.array([[1.0], [0.0]])
    b = np.array([[1.0, -2.0], [1.0, 0.0]])
    assert tucker_congruence(a, b).ravel().tolist() == pytest.approx([1 / math.sqrt(2), -1.0])

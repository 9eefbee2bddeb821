"""`simulate` writes through the storage layer, and the EFA on what comes back recovers Table Е.1."""
from __future__ import annotations

import pandas as pd

from analysis.__main__ import main as analysis_main
from analysis.efa import run_efa, to_text
from analysis.factor_key import load_factor_key
from analysis.responses import load_frame
from analysis.scores import factor_scores
from analysis.simulate import store_simulated
from analysis.simulate_model import simulate_responses


async def test_simulated_929_recover_the_source_structure(app):
    assert await store_simulated(app.engine, app.survey, 929, seed=1) == 929
    frame = await load_frame(app.engine, app.survey)
    assert len(frame) == 929 and frame["response_id"].is_unique
    skipped = frame["q1"] == 4
    assert frame.loc[skipped, "s1":"s21"].isna().all().all() and frame.loc[~skipped, "s1":"s21"].notna().all().all()
    assert frame.loc[skipped, "q7"].notna().all()  # profile answered by everyone

    key = load_factor_key()
    # On Table Е.1's 16 statements (the source's final solution) and on all 21: in both, every statement the
    # table lists lands on its factor, with congruence over those statements of at least 0.9.
    for items in (key.assigned_items, key.all_items):
        result = run_efa(frame, list(items), key=key)
        for factor in key.factors:
            assert result.congruence[factor.id] >= 0.9, (len(items), factor.id, result.congruence)
            for item in factor.items:
                assert result.assignment.loc[item, "factor"] == factor.id, (len(items), item)
        text = to_text(result)
        assert "0.788" in text and "0.814" in text
    sixteen = run_efa(frame, key=key)
    assert abs(sixteen.kmo - 0.788) < 0.03 and abs(result.alpha - 0.814) < 0.03  # α over all 21, as published


def test_cli_simulate_then_efa_prints_beside_the_source(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PIKIR_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("PIKIR_SECRET", "t")
    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert analysis_main(["simulate", "--n", "929", "--seed", "2"]) == 0
    assert analysis_main(["efa", "--items", "16", "--method", "principal", "--scree", str(tmp_path / "scree.png")]) == 0
    printed = capsys.readouterr().out
    assert "KMO" in printed and "0.788" in printed and (tmp_path / "scree.png").stat().st_size > 1000
    assert analysis_main(["scores", "--out", str(tmp_path / "s.csv"), "--by", "city"]) == 0
    scores = pd.read_csv(tmp_path / "s.csv")
    assert len(scores) == 929 and list(scores.columns) == ["response_id", "F1", "F2", "F3", "F4", "F5"]
    means = scores.set_index("response_id").mean()  # 4 decimals a score: the means agree to about 1e-5
    frame = simulate_responses(929, seed=2 * 1_000_003)
    expected = factor_scores(frame, load_factor_key()).mean()
    assert (means - expected).abs().max() < 1e-4 and scores["F1"].notna().sum() == frame["s16"].notna().sum()
    assert analysis_main(["report", "--out", str(tmp_path / "r.html")]) == 0
    assert (tmp_path / "r.html").read_text(encoding="utf-8").count('id="chart-') >= 32


async def test_what_simulate_stores_is_what_the_model_drew(app):
    """Every cell the model drew comes back through the database unchanged (codes, multi-selects, "other" texts
    in Cyrillic, languages), and started_at is six minutes before completed_at."""
    from analysis.simulate import CHUNK
    from analysis.simulate_model import COLUMNS, simulate_responses

    n, seed = 700, 5
    assert n <= CHUNK  # one chunk, drawn with the chunk's seed
    await store_simulated(app.engine, app.survey, n, seed=seed)
    stored = (await load_frame(app.engine, app.survey)).sort_values("completed_at", kind="stable")
    drawn = simulate_responses(n, seed=seed * 1_000_003)
    assert stored["completed_at"].is_monotonic_increasing
    assert ((stored["completed_at"] - stored["started_at"]) == pd.Timedelta(minutes=6)).all()
    stored = stored.reset_index(drop=True)
    for column in COLUMNS:
        want, got = drawn[column], stored[column]
        if column.endswith("_other"):  # the model leaves "" where no text was given; nothing is stored then
            want = want.where(want != "", None)
        assert [None if pd.isna(v) else v for v in got] == [None if pd.isna(v) else v for v in want], column

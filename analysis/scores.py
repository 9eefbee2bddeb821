"""Per-respondent factor scores and their summaries by group (city, language, age band, gender)."""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from analysis.factor_key import FactorKey

SKIP_Q1 = 4  # "Нет, не знаком": the survey jumps from q1 to the profile block, so no statements exist


def statement_matrix(df: pd.DataFrame, items: Sequence[str], scale: tuple[int, int] = (1, 5)) -> np.ndarray:
    """The statements as a float array, NaN where not answered; refuses codes outside the scale.

    Accepts float columns with NaN (CSV), pandas nullable integers (pd.NA) and object columns with None.
    """
    missing = [i for i in items if i not in df.columns]
    if missing:
        raise KeyError(f"statement columns missing from the data: {missing}")
    # errors="raise": a stray text in a statement column is a data problem to report, not a silent NaN
    numeric = pd.DataFrame({i: pd.to_numeric(df[i], errors="raise") for i in items}, index=df.index)
    x = numeric.to_numpy(dtype=float, na_value=np.nan)
    bad = ~np.isnan(x) & ((x < scale[0]) | (x > scale[1]) | (x != np.round(x)))
    if bad.any():
        rows, cols = np.nonzero(bad)
        sample = ", ".join(f"{df.index[r]}:{items[c]}={x[r, c]:g}" for r, c in zip(rows[:5], cols[:5]))
        raise ValueError(f"{bad.sum()} statement answers outside {scale[0]}..{scale[1]} ({sample})")
    return x


def skipped_statements(df: pd.DataFrame) -> np.ndarray:
    """Rows whose q1 answer skips the statement block (False everywhere when q1 is absent)."""
    if "q1" not in df.columns:
        return np.zeros(len(df), dtype=bool)
    q1 = pd.to_numeric(df["q1"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    return q1 == SKIP_Q1


def factor_scores(df: pd.DataFrame, key: FactorKey, weighted: bool = False) -> pd.DataFrame:
    """One column per factor (F1..F5): the mean of the factor's statements, or with `weighted` the
    loading-weighted mean sum(w*x)/sum(w). NaN unless every statement of the factor is answered, and NaN
    for every factor when q1 == 4 (those respondents never saw the statements, whatever a row claims)."""
    skip = skipped_statements(df)
    out = {}
    for f in key.factors:
        items = list(f.items)
        x = statement_matrix(df, items, key.scale)
        if weighted:
            w = np.array([f.loadings[i] for i in items], dtype=float)
            score = x @ w / w.sum()  # NaN in any statement propagates, which is the "all answered" rule
        else:
            score = x.mean(axis=1)
        score[skip] = np.nan
        out[f.id] = score
    return pd.DataFrame(out, index=df.index, columns=list(key.ids), dtype=float)


def group_summary(df: pd.DataFrame, scores: pd.DataFrame, by: str | Sequence[str],
                  dropna: bool = True) -> pd.DataFrame:
    """Mean, SD (n-1) and n of every factor per value of `by` (a column of `df`, or several).

    n counts respondents with a score on that factor; `respondents` counts everyone in the group, so the
    difference is the people who skipped or left a statement out. Columns: respondents, F1_mean, F1_sd,
    F1_n, F2_mean, …; one row per group value, sorted.
    """
    cols = [by] if isinstance(by, str) else list(by)
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise KeyError(f"grouping columns missing from the data: {missing}")
    if not scores.index.equals(df.index):
        raise ValueError("scores must be indexed like df (use factor_scores(df, ...))")
    frame = pd.concat([df[cols], scores], axis=1)
    grouped = frame.groupby(cols if len(cols) > 1 else cols[0], dropna=dropna, sort=True)
    parts = {"respondents": grouped.size()}
    for f in scores.columns:
        parts[f"{f}_mean"] = grouped[f].mean()
        parts[f"{f}_sd"] = grouped[f].std(ddof=1)
        parts[f"{f}_n"] = grouped[f].count()
    out = pd.DataFrame(parts)
    for c in out.columns:
        if c == "respondents" or c.endswith("_n"):
            out[c] = out[c].astype("int64")
    return out

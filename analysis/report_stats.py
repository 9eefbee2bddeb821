"""The numbers behind the report: who was asked each question, the shares of each answer overall and by city,
and a mean with its t-interval."""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from analysis.report_charts import Panel
from handlers.survey.definition import Question, Survey

MIN_OTHER = 3  # a free-text answer shown must have been given this often, so no single person is quoted


def num(series: pd.Series | None, n: int) -> np.ndarray:
    if series is None:
        return np.full(n, np.nan)
    return pd.to_numeric(series, errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def plain(option, language: str) -> str:
    """An option's label without the "(please specify)" an "other" option carries in the questionnaire."""
    label = option.label(language)
    return re.sub(r"\s*\([^()]*\)\s*$", "", label) if option.other else label


def asked_masks(df: pd.DataFrame, survey: Survey) -> dict[str, np.ndarray]:
    """Per question, the rows the survey's branching asked it of (q1 = 4 jumps to q7: q2–s21 not asked)."""
    asked = {q.id: np.ones(len(df), dtype=bool) for q in survey.questions}
    for q in survey.questions:
        for code, target in q.branch.items():
            column = df.get(f"{q.id}_{code}") if q.kind == "multi" else df.get(q.id)
            chosen = (num(column, len(df)) == (1.0 if q.kind == "multi" else float(code))) & asked[q.id]
            for later in survey.questions[q.position: survey.question(target).position - 1]:
                asked[later.id] &= ~chosen
    return asked


@dataclass
class Answers:
    labels: list[str]
    panels: list[Panel]  # the whole sample first, then the cities
    not_asked: int
    unanswered: int
    others: list[tuple[str, int]]


def summarize(df: pd.DataFrame, q: Question, asked: np.ndarray, groups: list[tuple[str, np.ndarray]],
              language: str, everyone: str) -> Answers:
    n = len(df)
    options = q.options
    if q.kind == "multi":
        picked = np.column_stack([num(df.get(f"{q.id}_{o.code}"), n) for o in options] or [np.zeros(n)])
        answered = asked & ~np.isnan(picked).all(axis=1)
        hits = picked == 1
    else:
        values = num(df.get(q.id), n)
        answered = asked & ~np.isnan(values)
        hits = np.column_stack([values == float(o.code) for o in options])
    panels = []
    for k, (title, rows) in enumerate([(everyone, np.ones(n, dtype=bool))] + groups):
        base = answered & rows
        m = int(base.sum())
        shares = hits[base].mean(axis=0) if m else np.full(len(options), np.nan)
        panels.append(Panel(title, m, shares, overall=k == 0))
    others, text = [], df.get(f"{q.id}_other")
    for j, o in enumerate(options):
        if o.other and text is not None:
            counts = text[answered & hits[:, j]].dropna().astype(str).str.strip().value_counts()
            others += [(t, int(c)) for t, c in counts.items() if t and c >= MIN_OTHER][:5]
    labels = [plain(o, language) for o in options]
    return Answers(labels, panels, int((~asked).sum()), int((asked & ~answered).sum()), others)


def stat(values: np.ndarray) -> tuple[float, float, int, float, float]:
    """Mean, SD (n − 1), n and the t-based 95% confidence interval of the finite values."""
    v = values[np.isfinite(values)]
    n = len(v)
    if n == 0:
        return (np.nan, np.nan, 0, np.nan, np.nan)
    mean = float(v.mean())
    if n < 2:
        return (mean, np.nan, 1, np.nan, np.nan)
    sd = float(v.std(ddof=1))
    half = float(stats.t.ppf(0.975, n - 1)) * sd / np.sqrt(n)
    return (mean, sd, n, mean - half, mean + half)

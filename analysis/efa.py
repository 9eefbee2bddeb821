"""Re-estimates the source's exploratory factor analysis on our data and lines it up against Table Е.1.

KMO, Bartlett's test, the rotation and minres extraction are factor_analyzer's (principal components are
computed exactly here, see _extract). The estimated factors are then matched to the source's by Tucker
congruence (Hungarian assignment on |congruence|, signs flipped so congruence is positive), so that
"F3 here" means the estimated factor that best reproduces the source's F3, whatever order PCA produced.
"""
from __future__ import annotations

import inspect
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment

from analysis.factor_key import FactorKey, load_factor_key
from analysis.scores import statement_matrix

THRESHOLD = 0.4  # the source's display and assignment cut-off for loadings
METHODS = ("principal", "minres")
_PATCH_LOCK = threading.Lock()


def cronbach_alpha(x: np.ndarray | pd.DataFrame) -> float:
    """Cronbach's α = k/(k-1) · (1 − Σ var(item) / var(total)), sample variances, complete rows only."""
    a = np.asarray(x, dtype=float)
    a = a[~np.isnan(a).any(axis=1)]
    k = a.shape[1]
    if k < 2 or len(a) < 2:
        return float("nan")
    return float(k / (k - 1) * (1 - a.var(axis=0, ddof=1).sum() / a.sum(axis=1).var(ddof=1)))


def tucker_congruence(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Congruence of every column of `a` with every column of `b` (rows: items)."""
    a, b = np.atleast_2d(a.T).T, np.atleast_2d(b.T).T
    num = a.T @ b
    den = np.sqrt(np.outer((a**2).sum(axis=0), (b**2).sum(axis=0)))
    with np.errstate(invalid="ignore", divide="ignore"):
        return num / den


@dataclass
class EfaResult:
    items: list[str]
    n: int
    n_dropped: int
    method: str
    rotation: str | None
    kmo: float
    kmo_per_item: dict[str, float]
    bartlett_chi2: float
    bartlett_df: int
    bartlett_p: float
    eigenvalues: np.ndarray            # of the correlation matrix, descending (scree)
    loadings: pd.DataFrame             # items × factors, matched to the source's ids, signs aligned
    ss_loadings: pd.Series             # per factor after rotation
    variance_pct: pd.Series
    cumulative_pct: pd.Series
    congruence: dict[str, float]       # source factor id -> |Tucker φ| with its matched estimate
    alpha: float                       # over all `items`
    alpha_by_factor: dict[str, float]  # over the statements Table Е.1 assigns to each factor
    assignment: pd.DataFrame           # per item: source factor/loading vs estimated factor/loading
    source: dict[str, Any] = field(default_factory=dict)

    @property
    def recovered(self) -> bool:
        """Every statement the source assigns (and that was analysed) lands on its factor here."""
        rows = self.assignment[self.assignment["source_factor"].notna()]
        return bool((rows["source_factor"] == rows["factor"]).all())


@contextmanager
def _sklearn_compat():
    # factor_analyzer 0.5.1 passes check_array(force_all_finite=...); scikit-learn renamed the keyword to
    # ensure_all_finite in 1.6 and removed the old name in 1.8, so fit() raises TypeError. Translate it for
    # the duration of a fit only, instead of patching the library for the whole process.
    import factor_analyzer.factor_analyzer as module

    original = module.check_array
    if "force_all_finite" in inspect.signature(original).parameters:
        yield
        return

    def check_array(*args, force_all_finite=None, **kwargs):
        if force_all_finite is not None:
            kwargs.setdefault("ensure_all_finite", force_all_finite)
        return original(*args, **kwargs)

    with _PATCH_LOCK:
        module.check_array = check_array
        try:
            yield
        finally:
            module.check_array = original


def _source_matrix(key: FactorKey, items: Sequence[str]) -> np.ndarray:
    s = np.zeros((len(items), len(key.factors)))
    for k, f in enumerate(key.factors):
        for j, item in enumerate(items):
            s[j, k] = f.loadings.get(item, 0.0)
    return s


def match_factors(loadings: np.ndarray, key: FactorKey, items: Sequence[str]):
    """Columns of `loadings` reordered and sign-flipped to match the source's factors.

    Returns (matrix, labels, congruence by source id). Source factors left without a partner (fewer factors
    extracted than published) get NaN congruence; extra estimated factors are labelled E1, E2, … .

    Congruence compares loadings over the statements both solutions have: the ones Table Е.1 lists. The
    source's solution was estimated without s1, s8, s9, s14 and s18 (its variance shares are of 16 statements),
    so it has no loadings for them, not zero loadings; in a 21-statement run they are left out of the match
    and reported by where they load.
    """
    listed = [j for j, item in enumerate(items) if item in key.assignment]
    cong = tucker_congruence(_source_matrix(key, items)[listed], loadings[listed])
    rows, cols = linear_sum_assignment(-np.nan_to_num(np.abs(cong)))
    order, labels, out = [], [], {f.id: float("nan") for f in key.factors}
    signs = np.ones(loadings.shape[1])
    for r, c in sorted(zip(rows, cols)):
        order.append(c)
        labels.append(key.factors[r].id)
        signs[c] = -1.0 if cong[r, c] < 0 else 1.0
        out[key.factors[r].id] = float(abs(cong[r, c]))
    extra = [c for c in range(loadings.shape[1]) if c not in set(cols)]
    order += extra
    labels += [f"E{i}" for i in range(1, len(extra) + 1)]
    matrix = loadings[:, order] * signs[order]
    return matrix, labels, out


def _extract(x: np.ndarray, n_factors: int, method: str, rotation: str | None) -> np.ndarray:
    from factor_analyzer import FactorAnalyzer
    from factor_analyzer.rotator import Rotator

    if method == "principal":
        # Not FactorAnalyzer(method="principal"): its default randomized SVD is ~0.01 off on the small
        # components, and svd_method="lapack" keeps all components instead of n_factors. SPSS's principal
        # components are the top eigenvectors of the correlation matrix scaled by sqrt(eigenvalue).
        values, vectors = np.linalg.eigh(np.corrcoef(x, rowvar=False))
        top = np.argsort(values)[::-1][:n_factors]
        loadings = vectors[:, top] * np.sqrt(values[top])
        if rotation is not None and n_factors > 1:
            loadings = Rotator(method=rotation).fit_transform(loadings)  # Kaiser-normalised, as in SPSS
        return np.asarray(loadings)
    fa = FactorAnalyzer(n_factors=n_factors, method=method, rotation=rotation)
    with _sklearn_compat():
        fa.fit(x)
    return np.asarray(fa.loadings_)


def _assignment(loadings: pd.DataFrame, key: FactorKey) -> pd.DataFrame:
    src_factor = key.assignment
    rows = []
    for item in loadings.index:
        row = loadings.loc[item].to_numpy()
        best = int(np.argmax(np.abs(row)))
        here = loadings.columns[best] if abs(row[best]) >= THRESHOLD else None
        sf = src_factor.get(item)
        rows.append({
            "item": item,
            "source_factor": sf,
            "source_loading": key.factor(sf).loadings[item] if sf else float("nan"),
            "factor": here,
            "loading": float(row[best]) if here else float("nan"),
            "agrees": sf == here,
        })
    # object columns keep None (not NaN) for "no factor", so `a["factor"] or "-"` style code works too
    return pd.DataFrame(rows, dtype=object).astype({"source_loading": float, "loading": float,
                                                     "agrees": bool}).set_index("item")


def run_efa(df: pd.DataFrame, items: Sequence[str] | None = None, n_factors: int = 5,
            method: str = "principal", rotation: str | None = "varimax",
            key: FactorKey | None = None) -> EfaResult:
    """EFA of `items` (default: the 16 statements of Table Е.1) on complete rows of `df`.

    method "principal" is what the source ran in SPSS (principal components, varimax with Kaiser
    normalisation); "minres" is a common-factor alternative. Pass `key.all_items` for all 21 statements.
    """
    from factor_analyzer import calculate_bartlett_sphericity, calculate_kmo

    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, not {method!r}")
    key = key or load_factor_key()
    items = list(items) if items is not None else list(key.assigned_items)
    if n_factors < 1 or n_factors >= len(items):
        raise ValueError(f"cannot extract {n_factors} factors from {len(items)} items")
    x = statement_matrix(df, items, key.scale)
    complete = ~np.isnan(x).any(axis=1)
    x = x[complete]
    if len(x) <= len(items):
        raise ValueError(f"only {len(x)} complete rows for {len(items)} items")
    constant = [items[j] for j in np.flatnonzero(x.std(axis=0) == 0)]
    if constant:
        raise ValueError(f"items without variance cannot be factored: {constant}")

    kmo_items, kmo_all = calculate_kmo(x)
    chi2, p = calculate_bartlett_sphericity(x)
    eigenvalues = np.linalg.eigvalsh(np.corrcoef(x, rowvar=False))[::-1]
    matrix, labels, congruence = match_factors(_extract(x, n_factors, method, rotation), key, items)
    loadings = pd.DataFrame(matrix, index=items, columns=labels)
    ss = (loadings**2).sum(axis=0)
    pct = ss / len(items) * 100
    alpha_by = {}
    for f in key.factors:
        cols = [items.index(i) for i in f.items if i in items]
        alpha_by[f.id] = cronbach_alpha(x[:, cols]) if len(cols) >= 2 else float("nan")
    return EfaResult(
        items=items, n=int(len(x)), n_dropped=int((~complete).sum()), method=method, rotation=rotation,
        kmo=float(kmo_all), kmo_per_item={i: float(v) for i, v in zip(items, kmo_items)},
        bartlett_chi2=float(chi2), bartlett_df=len(items) * (len(items) - 1) // 2, bartlett_p=float(p),
        eigenvalues=eigenvalues, loadings=loadings, ss_loadings=ss, variance_pct=pct,
        cumulative_pct=pct.cumsum(), congruence=congruence, alpha=cronbach_alpha(x),
        alpha_by_factor=alpha_by, assignment=_assignment(loadings, key), source=_published(key),
    )


def _published(key: FactorKey) -> dict[str, Any]:
    fit = dict(key.fit)
    return {
        "kmo": fit.get("kmo"), "bartlett_chi2": fit.get("bartlett_chi2"),
        "cronbach_alpha": fit.get("cronbach_alpha"), "cumulative_variance_pct": fit.get("cumulative_variance_pct"),
        "eigenvalues": {f.id: f.eigenvalue for f in key.factors},
        "variance_pct": {f.id: f.variance_pct for f in key.factors},
    }


def _f(value, fmt=".3f") -> str:
    return "" if value is None or (isinstance(value, float) and np.isnan(value)) else format(value, fmt)


def to_text(result: EfaResult) -> str:
    """Side-by-side table (loadings below 0.4 left blank, as in the source) and fit lines vs the source."""
    r, src = result, result.source
    cols = list(r.loadings.columns)
    k = len(cols)
    head = f"{'item':<5} {'source':<6} {'load':>5}  " + " ".join(f"{c:>6}" for c in cols) + "   here  agrees"
    lines = [f"EFA: {len(r.items)} items, n = {r.n} complete rows ({r.n_dropped} dropped listwise), "
             f"{r.method}, rotation {r.rotation}, {k} factors", "", head, "-" * len(head)]
    for item in r.items:
        a = r.assignment.loc[item]
        cells = " ".join(f"{_f(v) if abs(v) >= THRESHOLD else '':>6}" for v in r.loadings.loc[item])
        sf = "-" if pd.isna(a["source_factor"]) else a["source_factor"]
        here = "-" if pd.isna(a["factor"]) else a["factor"]
        lines.append(f"{item:<5} {sf:<6} {_f(a['source_loading']):>5}  {cells}   {here:<5} "
                     f"{'yes' if a['agrees'] else 'NO'}")
    ev = r.eigenvalues[:k]
    published_ev = list(src["eigenvalues"].values())
    p = len(r.items)
    unlisted = [item for item in r.items if pd.isna(r.assignment.loc[item, "source_factor"])]
    listed = p - len(unlisted)

    def row(label: str, here: str, source: str = "") -> str:
        return f"{label:<26} {here:<36} | {source}".rstrip(" |")

    lines += ["", row("", "here", "source"),
              row("KMO", _f(r.kmo), _f(src["kmo"])),
              row("Bartlett chi2 (df, p)", f"{r.bartlett_chi2:.1f} ({r.bartlett_df}, {r.bartlett_p:.3g})",
                  _f(src["bartlett_chi2"])),
              row(f"Cronbach alpha ({p} items)", _f(r.alpha), _f(src["cronbach_alpha"])),
              row(f"Eigenvalues 1..{k}", " ".join(f"{v:.3f}" for v in ev),
                  " ".join(f"{v:.3f}" for v in published_ev)),
              row(f"% variance 1..{k}", " ".join(f"{v / p * 100:.2f}" for v in ev),
                  " ".join(f"{v:.2f}" for v in src["variance_pct"].values())),
              row("Cumulative %", _f(ev.sum() / p * 100, ".2f"), _f(src["cumulative_variance_pct"], ".2f")),
              row("Harman 1st component %", _f(r.eigenvalues[0] / p * 100, ".2f"), "24.49"),
              row("Rotated SS loadings", " ".join(f"{c}={v:.3f}" for c, v in r.ss_loadings.items())),
              row("Rotated % (cumulative)", " ".join(
                  f"{c}={v:.2f}({w:.2f})" for (c, v), w in zip(r.variance_pct.items(), r.cumulative_pct))),
              row("Tucker congruence", " ".join(f"{c}={_f(v)}" for c, v in r.congruence.items())),
              row("Cronbach alpha by factor", " ".join(f"{c}={_f(v)}" for c, v in r.alpha_by_factor.items())),
              "", "Eigenvalues and % are the unrotated components', by rank, as the source's table reports them.",
              "The source's alpha is over the whole questionnaire (21 statements).",
              f"Congruence is over the {listed} statements Table Е.1 gives loadings for"
              + (f"; {', '.join(unlisted)} are not in its solution (see where they load above)." if unlisted
                 else ".")]
    return "\n".join(lines)


def to_json(result: EfaResult) -> dict[str, Any]:
    r = result

    def num(v):
        return None if v is None or (isinstance(v, float) and np.isnan(v)) else float(v)

    return {
        "items": list(r.items), "n": r.n, "n_dropped": r.n_dropped, "method": r.method, "rotation": r.rotation,
        "kmo": num(r.kmo), "kmo_per_item": {i: num(v) for i, v in r.kmo_per_item.items()},
        "bartlett": {"chi2": num(r.bartlett_chi2), "df": r.bartlett_df, "p": num(r.bartlett_p)},
        "eigenvalues": [float(v) for v in r.eigenvalues],
        "loadings": {i: {c: float(v) for c, v in r.loadings.loc[i].items()} for i in r.items},
        "ss_loadings": {c: float(v) for c, v in r.ss_loadings.items()},
        "variance_pct": {c: float(v) for c, v in r.variance_pct.items()},
        "cumulative_pct": {c: float(v) for c, v in r.cumulative_pct.items()},
        "congruence": {c: num(v) for c, v in r.congruence.items()},
        "alpha": num(r.alpha), "alpha_by_factor": {c: num(v) for c, v in r.alpha_by_factor.items()},
        "assignment": {i: {"source_factor": None if pd.isna(a["source_factor"]) else a["source_factor"],
                           "source_loading": num(a["source_loading"]),
                           "factor": None if pd.isna(a["factor"]) else a["factor"],
                           "loading": num(a["loading"]), "agrees": bool(a["agrees"])}
                       for i, a in r.assignment.iterrows()},
        "recovered": r.recovered, "source": r.source,
    }


def scree_plot(result: EfaResult, path: str | Path) -> Path:
    """Eigenvalues by rank with the Kaiser line and the source's published ones; writes a PNG."""
    # Figure + Agg canvas directly: no pyplot global state, no backend switch for the host process
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.4, 4.0), dpi=120)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ranks = np.arange(1, len(result.eigenvalues) + 1)
    ax.plot(ranks, result.eigenvalues, "o-", label=f"this data (n = {result.n})")
    published = list(result.source.get("eigenvalues", {}).values())
    if published:
        ax.plot(np.arange(1, len(published) + 1), published, "s--", label="source, Table Е.1")
    ax.axhline(1.0, color="grey", linewidth=0.8, linestyle=":", label="eigenvalue 1 (Kaiser)")
    ax.set_xticks(ranks)
    ax.set_xlabel("component")
    ax.set_ylabel("eigenvalue")
    ax.set_title(f"Scree plot, {len(result.items)} statements")
    ax.legend()
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, format="png")
    return path

"""The results report for city officials and researchers: one self-contained HTML file, or a PDF.

`build_report(df, survey, out, language)` takes the export's columns (analysis.responses) and writes counts of
responses, one chart per question (whole sample and the largest cities), the five perception factors with
confidence intervals, and the re-estimated factor analysis next to the source's Table Е.1. Question and option
texts come from the survey definition; the report's own words come from the gettext catalogs.
"""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd
from matplotlib import rc_context

from analysis.efa import THRESHOLD, run_efa
from analysis.factor_key import FactorKey, load_factor_key
from analysis.report_blocks import Cell, Heading, PageBreak, Para, Table, html_document, pdf_document
from analysis.report_charts import (
    STYLE, Estimate, Numbers, choice_chart, dates_chart, factor_chart, scree_chart, statement_chart,
    statements_overview,
)
from analysis.report_stats import MIN_OTHER, asked_masks, num, plain, stat, summarize
from analysis.scores import factor_scores
from handlers.i18n import LANGUAGE_NAMES, N_, gettext_for
from handlers.survey.definition import Survey

TOP_CITIES = 6
MIN_CITY_N = 30  # below this a city's shares move by several points with one answer
MIN_EFA_N = 100  # complete respondents; fewer give unstable loadings (and KMO) for 16 items
CITY, OTHER_CITY = "city", 99
# The factor key's English names are the msgids of the kk and ky names (ru comes from the key itself).
FACTOR_NAMES = (N_("Readiness to engage"), N_("Expectations of improvement"), N_("Readiness to use"),
                N_("Concern about effectiveness"), N_("Concern about abuse"))




class Report:
    def __init__(self, df: pd.DataFrame, survey: Survey, language: str, title: str | None, key: FactorKey):
        self.df, self.survey, self.language, self.key = df, survey, language, key
        self.gettext = gettext_for(language)
        self.fmt = Numbers(language)
        self.title = title or self.gettext("Smart city perception survey: results")
        self.asked = asked_masks(df, survey)
        self.city = num(df.get(CITY), len(df))
        self.blocks: list = []

    # --- helpers ------------------------------------------------------------------------------------
    def city_label(self, code: float) -> str:
        if not np.isfinite(code):
            return self.gettext("No answer")
        option = self.survey.question(CITY).option(str(int(code))) if self.survey.has(CITY) else None
        return plain(option, self.language) if option else str(int(code))

    def factor_name(self, factor) -> str:
        if self.language == "ru":
            return factor.name_ru or factor.name_en
        return self.gettext(factor.name_en) if factor.name_en else factor.id

    def date(self, day) -> str:
        return day.strftime("%Y-%m-%d" if self.language == "en" else "%d.%m.%Y")

    def share_table(self, header: str, labels: Sequence[str], counts: Sequence[int], anchor: str) -> Table:
        _, total = self.gettext, int(sum(counts))
        share = (lambda c: self.fmt.pct(c / total)) if total else (lambda c: "–")
        rows = [[label, self.fmt.int(c), share(c)] for label, c in zip(labels, counts)]
        rows.append([Cell(_("Total"), {"class": "total"}), self.fmt.int(total), share(total)])
        return Table([header, _("Respondents"), _("Share")], rows, ["left", "right", "right"], anchor=anchor)

    def top_cities(self) -> list[tuple[str, np.ndarray]]:
        counts = pd.Series(self.city[np.isfinite(self.city) & (self.city != OTHER_CITY)]).value_counts()
        chosen = [c for c, m in counts.items() if m >= MIN_CITY_N][:TOP_CITIES]
        return [(self.city_label(c), self.city == c) for c in chosen]

    # --- sections -----------------------------------------------------------------------------------
    def header(self) -> None:
        _, b = self.gettext, self.blocks
        b.append(Heading(1, self.title))
        b.append(Para(_("Respondents: {n}").format(n=self.fmt.int(len(self.df))), "meta"))
        when = self.completed()
        if when is not None and when.notna().any():
            b.append(Para(_("Completed between {start} and {end}").format(
                start=self.date(when.min()), end=self.date(when.max())), "meta"))
        b.append(Para(_("Report generated on {date}").format(date=self.date(datetime.now(timezone.utc))), "meta"))
        b.append(Para(_("Percentages are shares of the base: the respondents who were asked the question and "
                        "answered it. Respondents who were not asked a question because of an earlier answer "
                        "are left out of its base."), "intro"))

    def completed(self) -> pd.Series | None:
        if "completed_at" not in self.df.columns:
            return None
        return pd.to_datetime(self.df["completed_at"], errors="coerce")

    def responses(self) -> None:
        _, b, df = self.gettext, self.blocks, self.df
        b.append(Heading(2, _("Responses"), "responses"))
        b.append(Heading(3, _("Responses by city")))
        counts = pd.Series(self.city).value_counts(dropna=False)
        order = sorted(counts.index, key=lambda c: (not np.isfinite(c), c == OTHER_CITY, -counts[c]))
        b.append(self.share_table(_("City"), [self.city_label(c) for c in order], [int(counts[c]) for c in order],
                                  "table-cities"))
        if "language" in df.columns:
            b.append(Heading(3, _("Responses by language")))
            langs = df["language"].astype("string").fillna("—").value_counts()
            b.append(self.share_table(_("Language"), [LANGUAGE_NAMES.get(c, c) for c in langs.index],
                                      [int(v) for v in langs], "table-languages"))
        when = self.completed()
        if when is not None and when.notna().any():
            self.dates(when)

    def dates(self, when: pd.Series) -> None:
        _, b, en = self.gettext, self.blocks, self.language == "en"
        b.append(Heading(3, _("Responses by date")))
        days = when.dropna().dt.normalize()
        span = (days.max() - days.min()).days
        weeks = (days - pd.to_timedelta(days.dt.day_of_week, unit="D")).value_counts().sort_index()
        # bars stay countable: days up to two months, then weeks up to half a year, then months
        if span > 182:
            per_month = days.dt.strftime("%Y-%m").value_counts().sort_index()
            labels = [m if en else f"{m[5:]}.{m[:4]}" for m in per_month.index]
            counts = per_month.to_list()
            b.append(dates_chart("chart-dates", labels, counts, self.fmt, _("Completed responses per month")))
            b.append(self.share_table(_("Month"), labels, counts, "table-dates"))
        else:
            if span <= 62:
                per_day = days.value_counts().reindex(pd.date_range(days.min(), days.max(), freq="D"), fill_value=0)
                labels = [d.strftime("%d %b" if en else "%d.%m") for d in per_day.index]
                b.append(dates_chart("chart-dates", labels, per_day.to_list(), self.fmt,
                                     _("Completed responses per day")))
            else:
                b.append(dates_chart("chart-dates", [self.date(w) for w in weeks.index], weeks.to_list(), self.fmt,
                                     _("Completed responses per week")))
            b.append(self.share_table(_("Week beginning"), [self.date(w) for w in weeks.index], weeks.to_list(),
                                      "table-dates"))
        tz = getattr(when.dt, "tz", None)
        if tz is not None:
            b.append(Para(_("Dates are in the time zone {zone}.").format(zone=str(tz)), "note"))

    def questions(self) -> None:
        _, b, lang = self.gettext, self.blocks, self.language
        b.append(PageBreak())
        b.append(Heading(2, _("Answers by question"), "questions"))
        groups = self.top_cities()
        if groups:
            b.append(Para(_("Next to the whole sample, the {k} cities with the most respondents (at least {min} each) "
                            "are shown; each city's base is given next to its name.")
                          .format(k=len(groups), min=MIN_CITY_N), "intro"))
        else:
            b.append(Para(_("No city has {min} or more respondents, so the answers are not broken down by city.")
                          .format(min=MIN_CITY_N), "intro"))
        everyone = _("All respondents")
        disagree, agree = _("disagree (1–2)"), _("agree (4–5)")
        overview_done = False
        for q in self.survey.questions:
            a = summarize(self.df, q, self.asked[q.id], [] if q.id == CITY else groups, lang, everyone)
            if q.kind == "scale" and not overview_done:
                overview_done = True
                self.statements_overview(disagree, agree)
            b.append(Heading(3, q.text(lang), f"question-{q.id}", prefix=q.id))
            alt = q.text(lang)
            if q.kind == "scale":
                b.append(statement_chart(f"chart-{q.id}", q.id, a.panels, self.fmt, disagree, agree, alt))
            else:
                b.append(choice_chart(f"chart-{q.id}", q.id, a.labels, a.panels, self.fmt, alt))
            base = a.panels[0].n
            # "label: number" pieces, so no language's word order is built into the code
            note = [(_("Base"), "n = " + self.fmt.int(base))]
            if a.not_asked:
                note.append((_("Not asked"), self.fmt.int(a.not_asked)))
            if a.unanswered:
                note.append((_("No answer"), self.fmt.int(a.unanswered)))
            note = " · ".join(f"{label}: {value}" for label, value in note)
            b.append(Para(note, "base", {"data-base-for": q.id, "data-base": str(base)}))
            if q.kind == "multi":
                b.append(Para(_("Several answers could be chosen, so the shares add up to more than 100%."), "note"))
            if a.others:
                listed = "; ".join(f"{t} ({self.fmt.int(c)})" for t, c in a.others)
                b.append(Para(_("Other answers given at least {k} times: {answers}")
                              .format(k=MIN_OTHER, answers=listed), "note"))

    def statements_overview(self, disagree: str, agree: str) -> None:
        _, lang = self.gettext, self.language
        scale = [q for q in self.survey.questions if q.kind == "scale"]
        points = scale[0].options
        shares, labels = [], []
        for q in scale:
            a = summarize(self.df, q, self.asked[q.id], [], lang, "")
            shares.append(a.panels[0].values)
            labels.append(f"{q.id}. {q.text(lang)}")
        self.blocks.append(Heading(3, _("Agreement with the statements"), "statements"))
        if scale[0].preamble:
            self.blocks.append(Para(scale[0].preamble(lang), "prompt"))
        self.blocks.append(Para(_("Left of the centre line: the share who disagree (1–2); right of it: the share "
                                  "who agree (4–5). The neutral answer (3) straddles the line."), "note"))
        self.blocks.append(statements_overview("chart-statements", labels, np.array(shares, dtype=float),
                                               [o.label(lang) for o in points], self.fmt, disagree, agree,
                                               _("Agreement with the statements")))

    def factors(self, scores: pd.DataFrame) -> None:
        _, b, fmt = self.gettext, self.blocks, self.fmt
        b.append(PageBreak())
        b.append(Heading(2, _("Perception factors"), "factors"))
        b.append(Para(_("A factor score is the mean of the factor's statements (1–5) for the respondents who "
                        "answered all of them; higher means more agreement. The whiskers and the intervals in the "
                        "tables show the confidence interval of the mean (95%, t-distribution)."), "intro"))
        everyone = _("All respondents")
        groups = [(everyone, np.ones(len(self.df), dtype=bool), True)]
        groups += [(label, rows, False) for label, rows in self.top_cities()]
        per_factor = []
        for f in self.key.factors:
            values = scores[f.id].to_numpy(dtype=float, na_value=np.nan)
            estimates = []
            for label, rows, overall in groups:
                mean, _sd, n, low, high = stat(values[rows])
                estimates.append(Estimate(label, n, mean, low, high, overall))
            per_factor.append((f"{f.id}. {self.factor_name(f)}", estimates))
        b.append(factor_chart("chart-factors", per_factor, fmt, _("Perception factors")))
        ci = _("Confidence interval (95%)")
        rows = []
        for f in self.key.factors:
            mean, sd, n, low, high = stat(scores[f.id].to_numpy(dtype=float, na_value=np.nan))
            rows.append([f"{f.id}. {self.factor_name(f)}",
                         Cell(fmt.num(mean), {"data-factor": f.id, "data-group": "all", "data-stat": "mean"}),
                         fmt.num(sd), fmt.int(n), f"{fmt.num(low)}–{fmt.num(high)}"])
        b.append(Table([_("Perception factor"), _("Mean"), _("SD"), "n", ci], rows,
                       ["left", "right", "right", "right", "right"], anchor="table-factors"))
        b.append(Heading(3, _("Factors by city")))
        counts = pd.Series(self.city).value_counts()
        order = sorted(counts.index, key=lambda c: (c == OTHER_CITY, -counts[c]))
        rows = []
        for label, rows_mask in [(everyone, np.ones(len(self.df), dtype=bool))] + \
                [(self.city_label(c), self.city == c) for c in order]:
            row: list = [label]
            for f in self.key.factors:
                mean, sd, n, _lo, _hi = stat(scores[f.id].to_numpy(dtype=float, na_value=np.nan)[rows_mask])
                row += [fmt.num(mean), fmt.num(sd), fmt.int(n)]
            rows.append(row)
        header = [_("City")] + [h for _f in self.key.factors for h in (_("Mean"), _("SD"), "n")]
        b.append(Table(header, rows, ["left"] + ["right"] * (3 * len(self.key.factors)),
                       groups=[("", 1)] + [(f.id, 3) for f in self.key.factors], anchor="table-factors-city"))

    def efa(self) -> None:
        _, b, fmt, key = self.gettext, self.blocks, self.fmt, self.key
        b.append(PageBreak())
        b.append(Heading(2, _("Factor analysis compared with the source (Table Е.1)"), "efa"))
        items = list(key.assigned_items)
        x = np.column_stack([num(self.df.get(i), len(self.df)) for i in items])
        complete = int((~np.isnan(x).any(axis=1) & self.asked.get(items[0], True)).sum())
        skipped = {"id": "efa-skipped"}
        if complete < MIN_EFA_N:
            b.append(Para(_("The factor analysis needs at least {min} respondents who answered all {k} statements "
                            "of Table Е.1; this sample has {n}, so it is left out.")
                          .format(min=MIN_EFA_N, k=len(items), n=fmt.int(complete)), "skipped", skipped))
            return
        try:
            r = run_efa(self.df, key=key)
        except ValueError as error:  # e.g. a statement everybody answered alike
            b.append(Para(_("The factor analysis could not be run on this data: {reason}").format(reason=error),
                          "skipped", skipped))
            return
        try:
            r21 = run_efa(self.df, items=key.all_items, key=key)
        except ValueError:
            r21 = None
        b.append(Para(_("Principal components with varimax rotation, as in the source, on the {k} statements of "
                        "Table Е.1. Respondents who answered all of them: {n} ({dropped} left out). Loadings below "
                        "{cut} are left blank, as in the source.").format(
            k=len(items), n=fmt.int(r.n), dropped=fmt.int(r.n_dropped), cut=fmt.num(THRESHOLD, 1)), "intro"))
        self.loadings_table(r)
        self.fit_tables(r, r21)
        b.append(scree_chart("chart-scree", r.eigenvalues, list(r.source["eigenvalues"].values()),
                             (_("This data"), _("Source (Table Е.1)"), _("Eigenvalue 1 (Kaiser criterion)"),
                              _("Component"), _("Eigenvalue")), fmt, _("Scree plot")))

    def loadings_table(self, r) -> None:
        _, fmt = self.gettext, self.fmt
        ids, rows = list(r.loadings.columns), []
        for item in r.items:
            a = r.assignment.loc[item]
            text = self.survey.question(item).text(self.language) if self.survey.has(item) else ""
            loads = [fmt.num(v, 3) if abs(v) >= THRESHOLD else "" for v in r.loadings.loc[item]]
            rows.append([f"{item}. {text}", a["source_factor"] or "", fmt.num(a["source_loading"], 3), *loads,
                         a["factor"] if isinstance(a["factor"], str) else "—", "✓" if a["agrees"] else "✗"])
        header = [_("Statement"), _("Assigned factor"), _("Loading"), *ids, _("Assigned factor"), _("Same factor")]
        groups = [("", 1), (_("Source (Table Е.1)"), 2), (_("This data"), len(ids) + 1), ("", 1)]
        self.blocks.append(Table(header, rows, ["left", "left", "right"] + ["right"] * len(ids) + ["left", "center"],
                                 groups, "table-loadings"))

    def fit_tables(self, r, r21) -> None:
        _, fmt, key, src = self.gettext, self.fmt, self.key, r.source
        p, ev = len(r.items), r.eigenvalues[: len(key.factors)]
        pvalue = f"p < {fmt.num(0.001, 3)}" if r.bartlett_p < 0.001 else f"p = {fmt.num(r.bartlett_p, 3)}"
        alpha_all = _("Cronbach's α, all statements ({k})").format(k=len(key.all_items))
        fit = [[_("Kaiser–Meyer–Olkin measure (KMO)"), fmt.num(r.kmo, 3), fmt.num(src["kmo"], 3)],
               [_("Bartlett's test of sphericity, χ²"),
                f"{fmt.num(r.bartlett_chi2, 3)} (df = {r.bartlett_df}; {pvalue})", fmt.num(src["bartlett_chi2"], 3)],
               [alpha_all, fmt.num(r21.alpha, 3) if r21 else "—", fmt.num(src["cronbach_alpha"], 3)],
               [_("Cronbach's α, {k} statements").format(k=p), fmt.num(r.alpha, 3), "—"],
               [_("Variance explained by {k} factors").format(k=len(ev)), fmt.pct(ev.sum() / p, 2),
                fmt.pct(src["cumulative_variance_pct"] / 100, 2)]]
        self.blocks.append(Table([_("Measure"), _("This data"), _("Source (Table Е.1)")], fit,
                                 ["left", "right", "right"], anchor="table-fit"))
        rows = [[f"{f.id}. {self.factor_name(f)}", fmt.num(ev[k], 3), fmt.num(f.eigenvalue, 3), fmt.pct(ev[k] / p, 2),
                 fmt.pct(f.variance_pct / 100, 2), fmt.num(r.alpha_by_factor.get(f.id, np.nan), 3),
                 fmt.num(r.congruence.get(f.id, np.nan), 3)] for k, f in enumerate(key.factors)]
        here, source = _("This data"), _("Source")
        header = [_("Perception factor"), here, source, here, source, _("Cronbach's α"), _("Tucker congruence")]
        groups = [("", 1), (_("Eigenvalue"), 2), (_("Variance explained"), 2), ("", 2)]
        self.blocks.append(Table(header, rows, ["left"] + ["right"] * 6, groups, "table-factors-efa"))
        self.blocks.append(Para(_(
            "Eigenvalues and shares of variance are those of the unrotated components by rank, as Table Е.1 reports "
            "them. The source gives Cronbach's α only for all {k} statements together. A Tucker congruence of {good} "
            "or more means the factor is essentially the source's; {fair}–{good_below}, fairly similar.").format(
            k=len(key.all_items), good=fmt.num(0.95), fair=fmt.num(0.85), good_below=fmt.num(0.94)), "note"))
        if r21 is not None:
            assigned = r21.assignment[r21.assignment["source_factor"].notna()]
            self.blocks.append(Para(_(
                "With all {k} statements ({n} respondents): KMO {kmo}; of the {total} statements the source assigns "
                "to a factor, {same} load on the same factor here.").format(
                k=len(r21.items), n=fmt.int(r21.n), kmo=fmt.num(r21.kmo, 3), same=int(assigned["agrees"].sum()),
                total=len(assigned)), "note"))


def build_report(df: pd.DataFrame, survey: Survey, out: Path, language: str = "ru", title: str | None = None) -> Path:
    """Writes the report to `out`: a PDF when it ends in .pdf, otherwise one self-contained HTML file."""
    out = Path(out)
    key = load_factor_key()
    df = df.reset_index(drop=True)
    if all(f in df.columns for f in key.ids):
        scores = df[list(key.ids)].apply(pd.to_numeric, errors="coerce")
    else:
        scores = factor_scores(df, key)
    report = Report(df, survey, language, title, key)
    report.header()
    report.responses()
    report.questions()
    report.factors(scores)
    report.efa()
    with rc_context(STYLE):
        if out.suffix.lower() == ".pdf":
            pdf_document(report, out)
        else:
            out.write_text(html_document(report), encoding="utf-8")
    return out

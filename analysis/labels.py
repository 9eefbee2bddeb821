"""Variable labels, value labels and measure levels of every export column, derived from the survey definition.

`dictionary(survey, key, language)` describes the columns in export order: `analysis.responses.columns(survey)`
then the factor scores. Question and option texts come from the definition, factor names in ru/en from the
factor key; the few words in neither (selected / not selected, "not asked", the meta columns, kk/ky factor
names) come from the gettext catalogs, so every language is checked by tests/test_locales.py.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

from analysis.factor_key import Factor, FactorKey, load_factor_key
from analysis.responses import META, columns
from handlers.i18n import LANGUAGE_NAMES, USER_LANGUAGES, N_, gettext_for
from handlers.survey.definition import Question, Survey

LABEL_LANGUAGES = ("ru", "kk", "ky", "en")
NOT_ASKED = -1  # .sav only: the code of a cell the branching never asked, declared user-missing
NOT_ASKED_LABEL = N_("Not asked (skipped by branching)")
SELECTED, NOT_SELECTED = N_("selected"), N_("not selected")
OTHER_TEXT = N_("other (text)")
META_LABELS = {
    "response_id": N_("Response ID"),
    "survey_version": N_("Survey version"),
    "language": N_("Survey language"),
    "started_at": N_("Date and time started"),
    "completed_at": N_("Date and time completed"),
}
# The published factors' English names (factor_key.json name_en) as msgids, so kk and ky get a translation;
# ru and en come straight from the key.
FACTOR_NAMES = (
    N_("Readiness to engage"), N_("Expectations of improvement"), N_("Readiness to use"),
    N_("Concern about effectiveness"), N_("Concern about abuse"),
)
# The definition has no "ordered" flag. These single-choice questions are ordered bands (familiarity, age,
# education); the other single-choice questions are unordered categories.
ORDERED = frozenset({"q1", "q7", "q11"})


@dataclass(frozen=True)
class Variable:
    name: str
    label: str
    type: str  # integer | float | string | datetime
    measure: str  # nominal | ordinal | scale
    values: Mapping[int | str, str] = field(default_factory=dict)
    skipped_when: str = ""  # e.g. "q1 = 4": the branching that leaves this cell empty (not asked)
    note: str = ""
    tail: str = ""  # the end of `label` that names the option; a length-limited format shortens the rest first
    derived_from: tuple[str, ...] = ()  # a score's statements: the score was not asked when none of them was

    @property
    def not_asked_code(self) -> bool:
        """Whether .sav codes an empty cell of this column as NOT_ASKED (numeric columns the branching skips)."""
        return bool(self.skipped_when) and self.type in ("integer", "float")


def scoring_key(survey: Survey, key: FactorKey | None = None) -> FactorKey:
    """The factor key (the packaged one by default) when the survey has its statements; otherwise a key without
    factors, so a survey of another design (PIKIR_SURVEY) still exports, just without F columns."""
    key = key or load_factor_key()
    if all(survey.has(item) for f in key.factors for item in f.items):
        return key
    return FactorKey(factors=(), unassigned=())


def dictionary(survey: Survey, key: FactorKey, language: str = "ru") -> list[Variable]:
    """Every export column, in order, labelled in `language` (ru, kk, ky or en)."""
    if language not in LABEL_LANGUAGES:
        raise ValueError(f"labels in {language!r}: choose one of {', '.join(LABEL_LANGUAGES)}")
    _ = gettext_for(language)
    skips = branch_skips(survey)
    out = _meta(survey, _)
    for q in survey.questions:
        out += _question(q, language, _, skips.get(q.id, ""))
    out += [_factor(f, key, language, skips) for f in key.factors]
    expected = columns(survey) + list(key.ids)
    if [v.name for v in out] != expected:  # the export writes `columns`; a drift here would mislabel data
        raise AssertionError(f"labels out of step with the export columns: {[v.name for v in out]} != {expected}")
    return out


def branch_skips(survey: Survey) -> dict[str, str]:
    """Question id -> the answer that skips it ("q1 = 4"): every question a branch jumps over."""
    skips: dict[str, str] = {}
    for q in survey.questions:
        for code, target in q.branch.items():
            for skipped in survey.questions[q.position:survey.question(target).position - 1]:
                skips.setdefault(skipped.id, f"{q.id} = {code}")
    return skips


def factor_name(factor: Factor, language: str) -> str:
    if language == "ru":
        return factor.name_ru
    if language == "en":
        return factor.name_en
    translated = gettext_for(language)(factor.name_en)
    # A key with names the catalog does not know yet falls back to the Russian name, which researchers read.
    return translated if translated != factor.name_en else factor.name_ru


def _meta(survey: Survey, _) -> list[Variable]:
    spoken = {code: LANGUAGE_NAMES[code] for code in survey.languages if code in USER_LANGUAGES}
    kinds = {
        "response_id": ("string", "nominal", {}, "random id of the response; not linked to any person"),
        "survey_version": ("integer", "nominal", {}, "version of the survey definition answered"),
        "language": ("string", "nominal", spoken, "language the respondent chose (last one if switched)"),
        "started_at": ("datetime", "scale", {}, "UTC"),
        "completed_at": ("datetime", "scale", {}, "UTC"),
    }
    out = []
    for name in META:
        kind, measure, values, note = kinds[name]
        out.append(Variable(name, _(META_LABELS[name]), kind, measure, values, note=note))
    return out


def _question(q: Question, language: str, _, skipped_when: str) -> list[Variable]:
    text = q.text(language)
    out = []
    if q.kind == "multi":
        chosen = {0: _(NOT_SELECTED), 1: _(SELECTED)}
        for o in q.options:
            tail = " — " + o.label(language)
            out.append(Variable(
                f"{q.id}_{o.code}", text + tail, "integer", "nominal", chosen, skipped_when,
                note=f"1 if option {o.code} of {q.id} was chosen" + (f"; {o.reconstructed}" if o.reconstructed else ""),
                tail=tail,
            ))
    else:
        measure = "ordinal" if q.kind == "scale" or q.id in ORDERED else "nominal"
        values = {int(o.code): o.label(language) for o in q.options}
        out.append(Variable(q.id, text, "integer", measure, values, skipped_when))
    for o in (o for o in q.options if o.other):
        tail = ": " + _(OTHER_TEXT)
        out.append(Variable(
            f"{q.id}_other", text + tail, "string", "nominal", {}, skipped_when,
            note=f"free text given with {q.id} = {o.code}; empty otherwise", tail=tail,
        ))
    return out


def _factor(f: Factor, key: FactorKey, language: str, skips: Mapping[str, str]) -> Variable:
    items = tuple(s for s in key.all_items if s in f.items)
    skipped = {skips[i] for i in items if i in skips}
    return Variable(
        f.id, factor_name(f, language), "float", "scale", {}, " or ".join(sorted(skipped)),
        note=f"{f.id} = mean of {' '.join(items)}, empty unless all answered", derived_from=items,
    )

"""A survey as data: questions, options, branching and labels in every language, read from YAML.

The engine interprets this; adding or rewording a question never touches code.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Mapping

import yaml

BUILTIN = Path(__file__).with_name("smart_city.yaml")
KINDS = ("single", "multi", "scale")


class DefinitionError(ValueError):
    pass


@dataclass(frozen=True)
class Text:
    by_language: Mapping[str, str]

    def __call__(self, language: str) -> str:
        return self.by_language.get(language) or self.by_language["ru"]


@dataclass(frozen=True)
class Option:
    code: str
    label: Text
    other: bool = False  # choosing it asks for free text ("other, specify")
    reconstructed: str | None = None  # a note where the wording is not the source's own


@dataclass(frozen=True)
class Question:
    id: str
    kind: str
    text: Text
    options: tuple[Option, ...]
    position: int  # 1-based, for "7 / 32"
    min: int = 1
    max: int | None = None
    preamble: Text | None = None  # the shared prompt of a statement block
    branch: Mapping[str, str] = field(default_factory=dict)  # answer code -> question id to jump to

    def option(self, code: str) -> Option | None:
        return next((o for o in self.options if o.code == code), None)


@dataclass(frozen=True)
class Survey:
    id: str
    version: int
    languages: tuple[str, ...]
    intro: Text
    consent: Text
    questions: tuple[Question, ...]
    scales: Mapping[str, tuple[Option, ...]]

    @property
    def first(self) -> Question:
        return self.questions[0]

    @property
    def total(self) -> int:
        return len(self.questions)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_id", {q.id: q for q in self.questions})

    def question(self, qid: str) -> Question:
        return self._by_id[qid]

    def has(self, qid: str) -> bool:
        return qid in self._by_id

    def next_after(self, qid: str, codes: tuple[str, ...]) -> Question | None:
        question = self.question(qid)
        for code in codes:
            if code in question.branch:
                return self.question(question.branch[code])
        later = question.position  # positions are 1-based, so this indexes the next question
        return self.questions[later] if later < len(self.questions) else None

    def path(self, answers: Mapping[str, tuple[str, ...]]) -> list[str]:
        """The questions a respondent with these answers is asked, in order (stops at the first unanswered)."""
        seen, question = [], self.first
        while question is not None and question.id in answers:
            seen.append(question.id)
            question = self.next_after(question.id, answers[question.id])
        return seen


def _text(raw, country: str, languages, where: str) -> Text:
    if not isinstance(raw, dict):
        raise DefinitionError(f"{where}: expected a mapping of languages, got {raw!r}")
    chosen = dict(raw)
    chosen.update((raw.get("variants") or {}).get(country) or {})
    chosen.pop("variants", None)
    missing = [lang for lang in languages if not str(chosen.get(lang) or "").strip()]
    if missing:
        raise DefinitionError(f"{where}: no text in {', '.join(missing)}")
    # YAML folds long lines; collapse the whitespace so every channel gets one clean paragraph.
    return Text({k: " ".join(str(v).split()) for k, v in chosen.items()})


def _options(raws, country, languages, where) -> tuple[Option, ...]:
    return tuple(
        Option(
            code=str(raw["code"]),
            label=_text(raw["label"], country, languages, f"{where} option {raw['code']}"),
            other=bool(raw.get("other", False)),
            reconstructed=raw.get("reconstructed"),
        )
        for raw in raws
    )


def parse(doc: dict, country: str = "kz") -> Survey:
    languages = tuple(doc["languages"])
    scales = {
        name: _options(scale["points"], country, languages, f"scale {name}") for name, scale in doc.get("scales", {}).items()
    }
    preambles = {
        name: _text(scale["prompt"], country, languages, f"scale {name}") for name, scale in doc.get("scales", {}).items()
    }
    cities = doc.get("cities", {})
    questions = []
    for position, raw in enumerate(doc["questions"], start=1):
        qid, kind = raw["id"], raw["type"]
        if kind not in KINDS:
            raise DefinitionError(f"{qid}: unknown type {kind!r}")
        if kind == "scale":
            options, preamble = scales[raw["scale"]], preambles[raw["scale"]]
        elif raw.get("options_from") == "cities":
            if country not in cities:
                raise DefinitionError(f"{qid}: no city list for country {country!r}")
            listed = [{"code": i, "label": label} for i, label in enumerate(cities[country], start=1)]
            options, preamble = _options(listed + [dict(cities["other"], other=True)], country, languages, qid), None
        else:
            options, preamble = _options(raw["options"], country, languages, qid), None
        questions.append(
            Question(
                id=qid,
                kind=kind,
                text=_text(raw["text"], country, languages, qid),
                options=options,
                position=position,
                min=int(raw.get("min", 1)),
                max=raw.get("max"),
                preamble=preamble,
                branch={str(k): v for k, v in (raw.get("branch") or {}).items()},
            )
        )
    survey = Survey(
        id=doc["id"],
        version=int(doc["version"]),
        languages=languages,
        intro=_text(doc["intro"], country, languages, "intro"),
        consent=_text(doc["consent"], country, languages, "consent"),
        questions=tuple(questions),
        scales=scales,
    )
    _check(survey)
    return survey


def _check(survey: Survey) -> None:
    ids = [q.id for q in survey.questions]
    if len(set(ids)) != len(ids):
        raise DefinitionError("question ids are not unique")
    for q in survey.questions:
        for code, target in q.branch.items():
            if target not in ids or ids.index(target) <= ids.index(q.id):
                raise DefinitionError(f"{q.id}: branch {code} -> {target} must jump forward to a known question")
            if q.option(code) is None:
                raise DefinitionError(f"{q.id}: branch on unknown option {code}")


@lru_cache(maxsize=8)
def load(path: str | Path = BUILTIN, country: str = "kz") -> Survey:
    with open(path, encoding="utf-8") as fh:
        return parse(yaml.safe_load(fh), country)

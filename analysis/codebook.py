"""The data dictionary: one entry per export column with its label, type, measure, value labels and notes.

The same rows fill `python -m analysis codebook` (Markdown or CSV) and the `codebook` sheet of the XLSX export,
so the documentation cannot drift from the data. Labels are in the chosen language; the structural notes stay
in English, the language of the column names.
"""
from __future__ import annotations

import csv
import io
from typing import Iterable

from analysis.labels import NOT_ASKED, NOT_ASKED_LABEL, Variable
from handlers.i18n import gettext_for

FIELDS = ("name", "label", "type", "measure", "values", "missing", "notes")


def value_list(values) -> str:
    return "; ".join(f"{code} = {label}" for code, label in values.items())


def missing_note(variable: Variable, language: str) -> str:
    if not variable.skipped_when:
        return ""
    note = f"empty when {variable.skipped_when} (not asked)"
    if variable.not_asked_code:
        label = gettext_for(language)(NOT_ASKED_LABEL)
        note += f"; in .sav {NOT_ASKED} = «{label}», declared user-missing"
    return note


def rows(variables: Iterable[Variable], language: str) -> list[dict[str, str]]:
    return [
        {
            "name": v.name, "label": v.label, "type": v.type, "measure": v.measure, "values": value_list(v.values),
            "missing": missing_note(v, language), "notes": v.note,
        }
        for v in variables
    ]


def as_csv(variables: Iterable[Variable], language: str) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, FIELDS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows(variables, language))
    return out.getvalue()


def as_markdown(variables: Iterable[Variable], language: str, title: str = "Codebook") -> str:
    def cell(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    lines = [f"# {title}", "", "| " + " | ".join(FIELDS) + " |", "|" + "---|" * len(FIELDS)]
    lines += ["| " + " | ".join(cell(row[f]) for f in FIELDS) + " |" for row in rows(variables, language)]
    return "\n".join(lines) + "\n"

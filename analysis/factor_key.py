"""The published factor structure (Table Е.1 of the source) as data: which statements form which factor.

The file is looked up at `$PIKIR_FACTOR_KEY`, then at `analysis/data/factor_key.json` (a copy of
../shared/instrument/factor_key.json shipped with the package, so the package works without ../shared).
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

ENV = "PIKIR_FACTOR_KEY"
PACKAGED = Path(__file__).with_name("data") / "factor_key.json"
STATEMENTS = tuple(f"s{i}" for i in range(1, 22))


@dataclass(frozen=True)
class Factor:
    id: str
    name_ru: str
    name_en: str
    loadings: Mapping[str, float]  # statement id -> published varimax loading, in the table's order
    eigenvalue: float
    variance_pct: float

    @property
    def items(self) -> tuple[str, ...]:
        return tuple(self.loadings)


@dataclass(frozen=True)
class FactorKey:
    factors: tuple[Factor, ...]
    unassigned: tuple[str, ...]
    fit: Mapping[str, Any] = field(default_factory=dict)
    scale: tuple[int, int] = (1, 5)
    source: str = ""

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(f.id for f in self.factors)

    @property
    def assigned_items(self) -> tuple[str, ...]:
        """The statements Table Е.1 keeps (16), in statement order."""
        keep = {i for f in self.factors for i in f.items}
        return tuple(s for s in self.all_items if s in keep)

    @property
    def all_items(self) -> tuple[str, ...]:
        """Every statement the key knows about (21), in statement order."""
        known = {i for f in self.factors for i in f.items} | set(self.unassigned)
        return tuple(sorted(known, key=_statement_order))

    @property
    def assignment(self) -> dict[str, str]:
        return {i: f.id for f in self.factors for i in f.items}

    def factor(self, factor_id: str) -> Factor:
        for f in self.factors:
            if f.id == factor_id:
                return f
        raise KeyError(factor_id)


def _statement_order(item: str) -> tuple[int, str]:
    digits = item.lstrip("s")
    return (int(digits), item) if digits.isdigit() else (10**6, item)


def key_path() -> Path:
    env = os.environ.get(ENV)
    if env:
        path = Path(env)
        if not path.is_file():
            # An explicit setting that points nowhere is a mistake; silently using the packaged copy would hide it.
            raise FileNotFoundError(f"{ENV}={env} does not name a file")
        return path
    if PACKAGED.is_file():
        return PACKAGED
    raise FileNotFoundError(f"no factor key: set {ENV} or restore {PACKAGED}")


def parse_factor_key(doc: Mapping[str, Any]) -> FactorKey:
    factors = []
    seen: set[str] = set()
    for raw in doc["factors"]:
        loadings = {str(k): float(v) for k, v in raw["loadings"].items()}
        clash = seen & set(loadings)
        if clash:
            raise ValueError(f"statements assigned to two factors: {sorted(clash)}")
        seen |= set(loadings)
        factors.append(Factor(
            id=str(raw["id"]), name_ru=str(raw.get("name_ru", "")), name_en=str(raw.get("name_en", "")),
            loadings=loadings, eigenvalue=float(raw["eigenvalue"]), variance_pct=float(raw["variance_pct"]),
        ))
    unassigned = tuple(str(s) for s in doc.get("unassigned", ()))
    if seen & set(unassigned):
        raise ValueError(f"statements both assigned and unassigned: {sorted(seen & set(unassigned))}")
    scale = tuple(int(x) for x in doc.get("scale", (1, 5)))
    return FactorKey(factors=tuple(factors), unassigned=unassigned, fit=dict(doc.get("fit", {})),
                     scale=(scale[0], scale[1]), source=str(doc.get("source", "")))


def load_factor_key(path: str | os.PathLike | None = None) -> FactorKey:
    """The factor key from `path`, or from the default locations (see module docstring)."""
    with open(Path(path) if path is not None else key_path(), encoding="utf-8") as fh:
        return parse_factor_key(json.load(fh))

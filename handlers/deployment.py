"""The city a deployment serves, as data: its extent, districts, service categories, budget cycles and limits.

Loaded from YAML (handlers/deployments/<name>.yaml, or any path), so a new city is a file, not code.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from math import asin, cos, radians, sin, sqrt
from pathlib import Path

import yaml

from handlers.survey.definition import Text

BUILTIN = Path(__file__).with_name("deployments")
LANGUAGES = ("kk", "ru", "ky", "en")


class DeploymentError(ValueError):
    pass


@dataclass(frozen=True)
class Named:
    code: str
    name: Text
    ideas: bool = True  # a category ideas may use too


@dataclass(frozen=True)
class Cycle:
    id: str
    opens: date
    closes: date  # inclusive

    def is_open(self, today: date) -> bool:
        return self.opens <= today <= self.closes


@dataclass(frozen=True)
class Deployment:
    id: str
    country: str
    jurisdiction_id: str
    name: Text
    bounds: tuple[float, float, float, float]  # south, west, north, east
    districts: tuple[Named, ...]
    categories: tuple[Named, ...]
    cycles: tuple[Cycle, ...]
    complaints_per_day: int = 10
    ideas_per_cycle: int = 3

    def contains(self, latitude: float, longitude: float) -> bool:
        south, west, north, east = self.bounds
        return south <= latitude <= north and west <= longitude <= east

    def category(self, code: str | None) -> Named | None:
        return next((c for c in self.categories if c.code == code), None)

    def district(self, code: str | None) -> Named | None:
        return next((d for d in self.districts if d.code == code), None)

    def cycle_on(self, today: date) -> Cycle | None:
        """The cycle open on that day, if any."""
        return next((c for c in self.cycles if c.is_open(today)), None)

    def latest_cycle(self, today: date) -> Cycle | None:
        """The open cycle, else the last one that has closed: the one whose results people ask about."""
        started = [c for c in self.cycles if c.opens <= today]
        return self.cycle_on(today) or (max(started, key=lambda c: c.closes) if started else None)


def metres_between(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance (haversine); exact enough at the 150 m scale of duplicate reports."""
    lat1, lon1, lat2, lon2 = map(radians, (*a, *b))
    h = sin((lat2 - lat1) / 2) ** 2 + cos(lat1) * cos(lat2) * sin((lon2 - lon1) / 2) ** 2
    return 2 * 6_371_000 * asin(sqrt(h))


def _text(raw, where: str) -> Text:
    if not isinstance(raw, dict) or any(not raw.get(lang) for lang in LANGUAGES):
        raise DeploymentError(f"{where}: needs a name in each of {', '.join(LANGUAGES)}")
    return Text(dict(raw))


def _named(items, where: str) -> tuple[Named, ...]:
    out = tuple(Named(str(i["code"]), _text(i.get("name"), f"{where} {i.get('code')}"), bool(i.get("ideas", True)))
                for i in items or ())
    if not out or len({n.code for n in out}) != len(out):
        raise DeploymentError(f"{where}: codes must be present and unique")
    return out


@lru_cache(maxsize=8)
def load(name_or_path: str = "almaty") -> Deployment:
    path = Path(name_or_path)
    if not path.suffix:
        path = BUILTIN / f"{name_or_path}.yaml"
    if not path.exists():
        known = ", ".join(sorted(p.stem for p in BUILTIN.glob("*.yaml")))
        raise DeploymentError(f"no deployment {name_or_path!r} (built in: {known}; or give a path to a YAML file)")
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    b = raw["bounds"]
    limits = raw.get("limits") or {}
    cycles = tuple(Cycle(str(c["id"]), c["opens"], c["closes"]) for c in raw.get("budget_cycles") or ())
    return Deployment(
        id=raw["id"], country=raw["country"], jurisdiction_id=raw.get("jurisdiction_id", raw["id"]),
        name=_text(raw["name"], "name"), bounds=(b["south"], b["west"], b["north"], b["east"]),
        districts=_named(raw.get("districts"), "districts"), categories=_named(raw.get("categories"), "categories"),
        cycles=cycles, complaints_per_day=int(limits.get("complaints_per_day", 10)),
        ideas_per_cycle=int(limits.get("ideas_per_cycle", 3)),
    )


def default_for(country: str) -> str:
    return "bishkek" if country == "kg" else "almaty"

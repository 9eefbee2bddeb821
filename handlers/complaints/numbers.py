"""Tracking numbers like KZ-2026-4839-1520: the country, the year, eight random digits.

Digits only, grouped by four, because citizens read them out over the phone and type them on Cyrillic keyboards.
Random rather than sequential, so a neighbour's number cannot be guessed from one's own; /status shows only
public facts anyway.
"""
from __future__ import annotations

import re
import secrets

_CYRILLIC = str.maketrans({"К": "K", "З": "Z", "Г": "G"})
_SHAPE = re.compile(r"^(K[ZG])?(\d{4})(\d{8})$")


def new_number(country: str, year: int) -> str:
    digits = f"{secrets.randbelow(10**8):08d}"
    return f"{country.upper()}-{year}-{digits[:4]}-{digits[4:]}"


def normalise(text: str, country: str) -> str | None:
    """The canonical form of a number as people type it (any case, spaces or dashes, Cyrillic КЗ/КГ), or None."""
    compact = re.sub(r"[\s\-–—_./#№]", "", (text or "").upper().translate(_CYRILLIC))
    match = _SHAPE.match(compact)
    if not match:
        return None
    prefix, year, digits = match.groups()
    return f"{prefix or country.upper()}-{year}-{digits[:4]}-{digits[4:]}"

"""What proposing and browsing ideas share: the cycle of a day, districts typed by name, amounts of money."""
from __future__ import annotations

import re

from handlers.deployment import LANGUAGES, Deployment, Named
from handlers.i18n import N_

CURRENCY = {"kz": N_("tenge"), "kg": N_("som")}
_SPACES = re.compile(r"\s+")


def district_named(deployment: Deployment, text: str) -> Named | None:
    """The district a typed answer names, in any of the deployment's languages, or by its code; any case."""
    wanted = _SPACES.sub(" ", text or "").strip().casefold()
    if not wanted:
        return None
    for district in deployment.districts:
        if wanted == district.code.casefold() or any(
                wanted == district.name(language).casefold() for language in LANGUAGES):
            return district
    return None


def grouped(number: int) -> str:
    """5000000 -> "5 000 000": a space between thousands, as the glossary asks."""
    return f"{number:,}".replace(",", " ")


def money(amount: int, country: str, _) -> str:
    return f"{grouped(amount)} {_(CURRENCY.get(country, CURRENCY['kz']))}"


def short(text: str, limit: int) -> str:
    text = _SPACES.sub(" ", text).strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def day(value) -> str:
    return value.strftime("%d.%m.%Y")

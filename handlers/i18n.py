"""gettext catalogs for every user-visible string that is not survey content (survey text lives in the definition)."""
from __future__ import annotations

import gettext
from functools import lru_cache
from pathlib import Path

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locales"
DOMAIN = "messages"
# The order citizens see in the language menu.
USER_LANGUAGES = ("kk", "ru", "ky")
LANGUAGES = USER_LANGUAGES + ("en",)
LANGUAGE_NAMES = {"kk": "Қазақша", "ru": "Русский", "ky": "Кыргызча", "en": "English"}


@lru_cache(maxsize=None)
def translator(language: str) -> gettext.NullTranslations:
    # English msgids are the fallback, so a missing catalog degrades to English rather than crashing;
    # tests/test_locales.py fails the build on any missing or fuzzy entry.
    return gettext.translation(DOMAIN, localedir=LOCALE_DIR, languages=[language], fallback=True)


def gettext_for(language: str | None):
    return translator(language or "ru").gettext


def N_(message: str) -> str:
    """Marks a string for extraction where it is translated later."""
    return message

"""What the public may read of a complaint: personal data in the text is masked before anything leaves through
a public view (Open311 GET, a duplicate suggestion shown to another citizen); staff see the full text."""
from __future__ import annotations

import re

MASK = "***"  # language-neutral: public readers may use any language
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# Kazakh IIN (12 digits) and Kyrgyz PIN (14 digits), also written with spaces.
_PERSONAL_NUMBER = re.compile(r"(?<![\d-])(?:\d[ ]?){11}\d(?:[ ]?\d{2})?(?![\d-])")
# Phone numbers as written in KZ/KG: +7 701 123 45 67, 8(701)1234567, +996 555 12-34-56, 0555 123456 …
_PHONE = re.compile(r"(?<![\w])(?:\+?\d{1,3}[\s-]?)?(?:\(\d{2,4}\)|\d{2,4})(?:[\s-]?\d){5,8}(?![\w])")
# Tracking numbers look like digits too; they are public and must survive the masking.
_TRACKING = re.compile(r"\bK[ZG]-\d{4}-\d{4}-\d{4}\b")


def mask(text: str | None) -> str | None:
    if not text:
        return text
    kept: list[str] = []

    def keep(match: re.Match) -> str:
        kept.append(match.group(0))
        return f"\x00{len(kept) - 1}\x00"

    out = _TRACKING.sub(keep, text)
    out = _EMAIL.sub(MASK, out)
    out = _PERSONAL_NUMBER.sub(MASK, out)
    out = _PHONE.sub(MASK, out)
    return re.sub(r"\x00(\d+)\x00", lambda m: kept[int(m.group(1))], out)

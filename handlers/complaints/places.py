"""Addresses compared the way people write them: "ул. Абая, 10" and "Абая 10" name the same place."""
from __future__ import annotations

import re

# Street-type words and abbreviations in ru/kk/ky that people add or leave out at will.
_NOISE = {
    "ул", "улица", "пр", "пр-т", "проспект", "мкр", "микрорайон", "д", "дом", "пер", "переулок", "бул", "бульвар",
    "көшесі", "көше", "даңғылы", "даңғыл", "ш/а", "шағын", "ауданы", "үй", "көчөсү", "көчө", "проспекти", "кичи",
    "району", "үйү", "г", "город", "қ", "қаласы", "шаары",
}


def address_key(address: str | None) -> str | None:
    if not address:
        return None
    words = re.findall(r"[\w/-]+", address.casefold().replace("ё", "е"))
    kept = [w for w in words if w not in _NOISE]
    return " ".join(kept)[:200] or None

"""Respondent pseudonyms: a keyed hash of the channel's user id, so the database never holds a chat id."""
from __future__ import annotations

import hashlib
import hmac


def pseudonym(secret: bytes, channel: str, user_id: str) -> str:
    return hmac.new(secret, f"{channel}:{user_id}".encode(), hashlib.sha256).hexdigest()[:40]

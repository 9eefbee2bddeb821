"""One clock for storage: aware UTC, so SQLite and PostgreSQL rows compare alike."""
from __future__ import annotations

from datetime import datetime, timezone


def now() -> datetime:
    return datetime.now(timezone.utc)

"""What the complaint conversation reads from storage (the port storage implements), and the records it asks
storage to write in the same transaction as the reply (effects), so a redelivered message files nothing twice."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class ComplaintView:
    number: str
    service_code: str
    state: str
    description: str  # the full text: mask it (privacy.mask) before showing it to anyone but its author or staff
    address: str | None
    latitude: float | None
    longitude: float | None
    created_at: datetime
    updated_at: datetime
    state_note: str | None = None
    supporters: int = 0
    mine: bool = False  # filed by the citizen asking
    supported: bool = False  # backed by the citizen asking
    photo: str | None = None


class ComplaintRecords(Protocol):
    async def filed_since(self, reporter: str, since: datetime) -> int: ...
    async def nearby_open(
        self, service_code: str, latitude: float | None, longitude: float | None, address_key: str | None,
        since: datetime, asker: str,
    ) -> list[ComplaintView]: ...
    async def find(self, number: str, asker: str) -> ComplaintView | None: ...
    async def of_citizen(self, asker: str, limit: int = 10) -> list[ComplaintView]: ...


@dataclass(frozen=True)
class FileComplaint:
    """Effect: a new complaint from the citizen of this conversation."""

    number: str
    token: str
    service_code: str
    description: str
    photo: str | None
    latitude: float | None
    longitude: float | None
    address: str | None
    language: str


@dataclass(frozen=True)
class SupportComplaint:
    """Effect: the citizen backs an open complaint (once; a second time changes nothing) and hears its updates."""

    number: str

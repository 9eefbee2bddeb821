"""What the ideas conversations read from storage (the port storage implements), and the records they ask
storage to write in the same transaction as the reply (effects), so a redelivered message does nothing twice.

Every rule that two taps at once could break is enforced again in SQL when the effect is written: an idea is
supported only while it is approved and its cycle open, never by its author, and once per citizen (the primary
key of idea_supports); a citizen files at most the cycle's limit of ideas.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from handlers.i18n import N_

PENDING, APPROVED, REJECTED = "pending", "approved", "rejected"
STATES = (PENDING, APPROVED, REJECTED)
# Why a moderation cannot be done (storage raises them, the staff command prints them in its language).
NO_SUCH_IDEA = N_("No idea #{id}.")
NOT_PENDING = N_("Idea #{id} is not pending moderation (it is {state}).")
REASON_NEEDED = N_("A rejection needs a reason for the author (--reason).")


@dataclass(frozen=True)
class IdeaView:
    id: int
    cycle: str
    district: str
    category: str
    title: str
    description: str
    state: str
    supports: int = 0
    cost: int | None = None
    photo: str | None = None
    created_at: datetime | None = None
    mine: bool = False  # proposed by the citizen asking
    supported: bool = False  # supported by the citizen asking


class IdeaRecords(Protocol):
    async def submitted_in(self, author: str, cycle: str) -> int: ...
    async def district_counts(self, cycle: str) -> dict[str, int]: ...
    async def page(self, cycle: str, district: str, asker: str, offset: int, limit: int
                   ) -> tuple[list[IdeaView], int]: ...
    async def find(self, idea_id: int, asker: str) -> IdeaView | None: ...


@dataclass(frozen=True)
class SubmitIdea:
    """Effect: a new idea, pending moderation; not written if the author already has `limit` in the cycle."""

    cycle: str
    district: str
    category: str
    title: str
    description: str
    photo: str | None
    cost: int | None
    language: str
    limit: int


@dataclass(frozen=True)
class SupportIdea:
    """Effect: the citizen supports an approved idea of the open cycle `cycle` (once; again changes nothing)."""

    id: int
    cycle: str


@dataclass(frozen=True)
class WithdrawSupport:
    """Effect: the citizen takes their support back, while the cycle `cycle` is open."""

    id: int
    cycle: str

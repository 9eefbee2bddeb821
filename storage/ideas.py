"""Participatory-budget ideas in the database (filled in by issue 05)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from storage.models import IdeaRow, IdeaSupportRow

ideas, idea_supports = IdeaRow.__table__, IdeaSupportRow.__table__


async def apply(connection: AsyncConnection, effect: object, respondent: str, at: datetime) -> None:
    raise TypeError(f"no storage for the effect {effect!r}")


async def forget(connection: AsyncConnection, respondent: str) -> None:
    """/forget: ideas stay public but anonymous; the citizen's supports are withdrawn."""
    await connection.execute(ideas.update().where(ideas.c.author == respondent).values(author=None))
    await connection.execute(idea_supports.delete().where(idea_supports.c.supporter == respondent))


class IdeaStore:
    """The ideas conversation's window on storage (filled in by issue 05)."""

    def __init__(self, engine):
        self.engine = engine


STATES = ("pending", "approved", "rejected")


class ModerationError(ValueError):
    pass

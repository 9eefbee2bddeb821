"""Participatory-budget ideas in the database: filing, supporting and withdrawing (effects of the conversation,
written in its reply's transaction), moderation (with the author's push message in the same transaction), and
the reads of the browsing page, the staff list and the results export.

"Support once" is the primary key (idea_id, supporter) with ON CONFLICT DO NOTHING, and the other conditions of
a support (approved, the open cycle, not one's own idea) are part of the same INSERT … SELECT, so two taps at
the same moment, or two bot processes, can never count twice or support what may not be supported.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, String, and_, func, literal, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from handlers.ideas.records import (APPROVED, NO_SUCH_IDEA, NOT_PENDING, PENDING, REASON_NEEDED, REJECTED, STATES,
                                    IdeaView, SubmitIdea, SupportIdea, WithdrawSupport)
from storage.models import IdeaRow, IdeaSupportRow, OutboxRow
from storage.time import now

ideas, idea_supports, outbox = IdeaRow.__table__, IdeaSupportRow.__table__, OutboxRow.__table__
_DIALECTS = {"postgresql": postgresql, "sqlite": sqlite}
__all__ = ["STATES", "ModerationError", "IdeaStore", "apply", "forget", "listing", "moderate", "results"]


class ModerationError(ValueError):
    """A moderation that cannot be done; `message` is an English msgid, `params` fill it in."""

    def __init__(self, message: str, **params):
        super().__init__(message.format(**params))
        self.message, self.params = message, params


def _supports():
    """Supports per idea, as a subquery to join."""
    return (select(idea_supports.c.idea_id, func.count().label("n"))
            .group_by(idea_supports.c.idea_id).subquery())


# -- effects (inside the reply's transaction) -------------------------------------------------------------------
async def apply(connection: AsyncConnection, effect: object, respondent: str, at: datetime) -> None:
    if isinstance(effect, SubmitIdea):
        await _submit(connection, effect, respondent, at)
    elif isinstance(effect, SupportIdea):
        await support(connection, effect.id, effect.cycle, respondent, at)
    elif isinstance(effect, WithdrawSupport):
        await connection.execute(idea_supports.delete().where(
            idea_supports.c.idea_id == effect.id, idea_supports.c.supporter == respondent,
            idea_supports.c.idea_id.in_(select(ideas.c.id).where(ideas.c.id == effect.id,
                                                                 ideas.c.cycle == effect.cycle)),
        ))
    else:
        raise TypeError(f"no storage for the effect {effect!r}")


async def _submit(connection: AsyncConnection, e: SubmitIdea, author: str, at: datetime) -> None:
    already = (select(func.count()).select_from(ideas)
               .where(ideas.c.author == author, ideas.c.cycle == e.cycle).scalar_subquery())
    values = {
        "cycle": e.cycle, "district": e.district, "category": e.category, "title": e.title,
        "description": e.description, "photo": e.photo, "cost": e.cost, "author": author, "language": e.language,
        "state": PENDING, "created_at": at,
    }
    row = select(*(literal(v, ideas.c[k].type).label(k) for k, v in values.items())).where(already < e.limit)
    await connection.execute(ideas.insert().from_select(list(values), row))


async def support(connection: AsyncConnection, idea_id: int, cycle: str, supporter: str, at: datetime) -> bool:
    """Adds one support; False when it was not added (given before, not approved, cycle closed, one's own)."""
    eligible = select(ideas.c.id, literal(supporter, String(64)), literal(at, DateTime(timezone=True))).where(
        ideas.c.id == idea_id, ideas.c.state == APPROVED, ideas.c.cycle == cycle,
        or_(ideas.c.author.is_(None), ideas.c.author != supporter),
    )
    insert = _DIALECTS[connection.dialect.name].insert(idea_supports).from_select(
        ["idea_id", "supporter", "at"], eligible).on_conflict_do_nothing(index_elements=["idea_id", "supporter"])
    return (await connection.execute(insert)).rowcount == 1


async def forget(connection: AsyncConnection, respondent: str) -> None:
    """/forget: ideas stay public but anonymous; the citizen's supports are withdrawn."""
    await connection.execute(ideas.update().where(ideas.c.author == respondent).values(author=None))
    await connection.execute(idea_supports.delete().where(idea_supports.c.supporter == respondent))


# -- staff ------------------------------------------------------------------------------------------------------
async def moderate(engine: AsyncEngine, idea_id: int, *, approve: bool, reason: str | None, actor: str) -> IdeaView:
    """Approves or rejects a pending idea and queues the author's message, in one transaction."""
    reason = (reason or "").strip() or None
    if not approve and reason is None:
        raise ModerationError(REASON_NEEDED)
    state = APPROVED if approve else REJECTED
    async with engine.begin() as connection:
        at = now()
        moved = (await connection.execute(
            ideas.update().where(ideas.c.id == idea_id, ideas.c.state == PENDING)
            .values(state=state, reason=reason, moderated_at=at).returning(ideas.c.author, ideas.c.title)
        )).first()
        if moved is None:
            current = (await connection.execute(select(ideas.c.state).where(ideas.c.id == idea_id))).scalar()
            if current is None:
                raise ModerationError(NO_SUCH_IDEA, id=idea_id)
            raise ModerationError(NOT_PENDING, id=idea_id, state=current)
        if moved.author:
            await connection.execute(outbox.insert().values(
                respondent=moved.author, kind=f"idea_{state}", params={"title": moved.title, "reason": reason},
                created_at=at, attempts=0))
        row = (await connection.execute(select(ideas).where(ideas.c.id == idea_id))).first()
    return _view(row)


async def listing(engine: AsyncEngine, state: str | None = PENDING, cycle: str | None = None,
                  district: str | None = None, limit: int = 1000) -> list[IdeaView]:
    """Ideas for staff, oldest first (the moderation queue), with their support counts."""
    counts = _supports()
    statement = select(ideas, func.coalesce(counts.c.n, 0).label("supports")).outerjoin(
        counts, counts.c.idea_id == ideas.c.id)
    if state:
        statement = statement.where(ideas.c.state == state)
    if cycle:
        statement = statement.where(ideas.c.cycle == cycle)
    if district:
        statement = statement.where(ideas.c.district == district)
    async with engine.connect() as connection:
        rows = (await connection.execute(statement.order_by(ideas.c.id).limit(limit))).all()
    return [_view(r, supports=r.supports) for r in rows]


async def results(engine: AsyncEngine, cycle: str) -> list[IdeaView]:
    """The approved ideas of a cycle with their supports, by district, most supported first (no author)."""
    counts = _supports()
    statement = (select(ideas, func.coalesce(counts.c.n, 0).label("supports"))
                 .outerjoin(counts, counts.c.idea_id == ideas.c.id)
                 .where(ideas.c.cycle == cycle, ideas.c.state == APPROVED)
                 .order_by(ideas.c.district, func.coalesce(counts.c.n, 0).desc(), ideas.c.id))
    async with engine.connect() as connection:
        rows = (await connection.execute(statement)).all()
    return [_view(r, supports=r.supports) for r in rows]


def _view(row, asker: str | None = None, supports: int = 0, supported: bool = False) -> IdeaView:
    return IdeaView(
        id=row.id, cycle=row.cycle, district=row.district, category=row.category, title=row.title,
        description=row.description, state=row.state, supports=supports, cost=row.cost, photo=row.photo,
        created_at=row.created_at, mine=asker is not None and row.author == asker, supported=supported,
    )


class IdeaStore:
    """The ideas conversations' window on storage (handlers.ideas.records.IdeaRecords)."""

    def __init__(self, engine: AsyncEngine):
        self.engine = engine

    async def submitted_in(self, author: str, cycle: str) -> int:
        async with self.engine.connect() as connection:
            return (await connection.execute(select(func.count()).select_from(ideas).where(
                ideas.c.author == author, ideas.c.cycle == cycle))).scalar_one()

    async def district_counts(self, cycle: str) -> dict[str, int]:
        async with self.engine.connect() as connection:
            rows = await connection.execute(select(ideas.c.district, func.count()).where(
                ideas.c.cycle == cycle, ideas.c.state == APPROVED).group_by(ideas.c.district))
            return {district: count for district, count in rows}

    async def page(self, cycle: str, district: str, asker: str, offset: int, limit: int
                   ) -> tuple[list[IdeaView], int]:
        counts = _supports()
        mine = select(idea_supports.c.idea_id).where(idea_supports.c.supporter == asker)
        supports = func.coalesce(counts.c.n, 0)
        where = and_(ideas.c.cycle == cycle, ideas.c.district == district, ideas.c.state == APPROVED)
        async with self.engine.connect() as connection:
            total = (await connection.execute(select(func.count()).select_from(ideas).where(where))).scalar_one()
            rows = (await connection.execute(
                select(ideas, supports.label("supports"), ideas.c.id.in_(mine).label("supported"))
                .outerjoin(counts, counts.c.idea_id == ideas.c.id).where(where)
                .order_by(supports.desc(), ideas.c.id).offset(offset).limit(limit)
            )).all()
        return [_view(r, asker, r.supports, bool(r.supported)) for r in rows], total

    async def find(self, idea_id: int, asker: str) -> IdeaView | None:
        async with self.engine.connect() as connection:
            row = (await connection.execute(select(ideas).where(ideas.c.id == idea_id))).first()
            if row is None:
                return None
            supports = (await connection.execute(select(func.count()).select_from(idea_supports).where(
                idea_supports.c.idea_id == idea_id))).scalar_one()
            supported = (await connection.execute(select(func.count()).select_from(idea_supports).where(
                idea_supports.c.idea_id == idea_id, idea_supports.c.supporter == asker))).scalar_one()
        return _view(row, asker, supports, bool(supported))

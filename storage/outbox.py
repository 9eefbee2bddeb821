"""Push messages waiting to be delivered: written by whatever changed (a staff command, the Open311 API, a
moderator) and sent by the bot process that runs the citizen's channel. A message is marked sent only after
the channel accepted it; a failing one is retried a few times, then left for staff to see."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.models import ContactRow, ConversationRow, OutboxRow
from storage.time import now

outbox, contacts, conversations = OutboxRow.__table__, ContactRow.__table__, ConversationRow.__table__
MAX_ATTEMPTS = 5


@dataclass(frozen=True)
class Pending:
    id: int
    kind: str
    params: dict
    channel: str
    address: str
    language: str


async def pending(engine: AsyncEngine, channels: list[str], limit: int = 100) -> list[Pending]:
    """Undelivered messages for citizens on these channels, oldest first, in the language they use now."""
    statement = (
        select(outbox.c.id, outbox.c.kind, outbox.c.params, contacts.c.channel, contacts.c.address,
               contacts.c.language, conversations.c.state)
        .join(contacts, contacts.c.respondent == outbox.c.respondent)
        .outerjoin(conversations, conversations.c.respondent == outbox.c.respondent)
        .where(outbox.c.sent_at.is_(None), outbox.c.attempts < MAX_ATTEMPTS, contacts.c.channel.in_(channels))
        .order_by(outbox.c.id).limit(limit)
    )
    async with engine.connect() as connection:
        rows = (await connection.execute(statement)).all()
    # The conversation's language wins: a citizen who switched language since filing reads the new one.
    return [Pending(r.id, r.kind, r.params, r.channel, r.address, (r.state or {}).get("language") or r.language)
            for r in rows]


async def mark_sent(engine: AsyncEngine, ids: list[int]) -> None:
    if ids:
        async with engine.begin() as connection:
            await connection.execute(outbox.update().where(outbox.c.id.in_(ids)).values(sent_at=now()))


async def mark_failed(engine: AsyncEngine, ids: list[int]) -> None:
    if ids:
        async with engine.begin() as connection:
            await connection.execute(outbox.update().where(outbox.c.id.in_(ids)).values(attempts=outbox.c.attempts + 1))


async def forget(connection, respondent: str) -> None:
    await connection.execute(outbox.delete().where(outbox.c.respondent == respondent))
    await connection.execute(contacts.delete().where(contacts.c.respondent == respondent))

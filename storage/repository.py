"""Reads and writes what the conversations need, one transaction per handled event.

The write path is the hot path (one commit per answer), so it uses Core statements: claim the event id,
write the answer rows that changed, then move the conversation cursor with a version check.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from handlers.conversation import DISCARD_RESPONSE
from handlers.events import COUNT_DECLINE, FORGET, Reply
from handlers.session import DONE, Answer, Session
from storage.models import AnswerRow, ConversationRow, DailyCounterRow, InboundEventRow, ResponseRow

conversations, responses, answers = ConversationRow.__table__, ResponseRow.__table__, AnswerRow.__table__
inbound_events, daily_counters = InboundEventRow.__table__, DailyCounterRow.__table__


class StaleSession(Exception):
    """Another writer moved this conversation since it was read; reload and handle the event again."""


@dataclass(frozen=True)
class Loaded:
    session: Session | None
    version: int | None  # None: no conversation row yet


def _insert(connection: AsyncConnection, table):
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    return dialect.insert(table)


def now() -> datetime:
    return datetime.now(timezone.utc)


class Repository:
    def __init__(self, engine: AsyncEngine, survey_id: str, survey_version: int):
        self.engine = engine
        self.survey_id, self.survey_version = survey_id, survey_version

    async def load(self, respondent: str) -> Loaded:
        async with self.engine.connect() as connection:
            row = (
                await connection.execute(
                    select(conversations.c.state, conversations.c.version).where(conversations.c.respondent == respondent)
                )
            ).first()
            if row is None:
                return Loaded(None, None)
            state, version = row
            given: dict[str, Answer] = {}
            if state.get("response_id"):
                rows = await connection.execute(
                    select(answers.c.question, answers.c.codes, answers.c.other).where(
                        answers.c.response_id == state["response_id"]
                    )
                )
                given = {q: Answer(tuple(c.split(",")) if c else (), o) for q, c, o in rows}
            return Loaded(Session.restore(state, given), version)

    async def save(self, channel: str, event_id: str, respondent: str, before: Loaded, reply: Reply) -> int | None | bool:
        """Persist one handled event. Returns False when the event was handled before (nothing is written),
        else the conversation's new version (None when nothing of the respondent is kept)."""
        at = now()
        async with self.engine.begin() as connection:
            claimed = await connection.execute(
                _insert(connection, inbound_events)
                .values(channel=channel, event_id=event_id, seen_at=at)
                .on_conflict_do_nothing(index_elements=["channel", "event_id"])
            )
            if claimed.rowcount == 0:
                return False  # the claim wrote nothing, so there is nothing to undo
            old, new = before.session, reply.session
            for effect in reply.effects:
                if effect == FORGET:
                    await self._forget(connection, respondent)
                elif effect == COUNT_DECLINE:
                    await self._count(connection, "consent_declined", at)
                elif effect == DISCARD_RESPONSE and old is not None and old.response_id:
                    await self._delete_responses(connection, [old.response_id])
            if new is None:
                await connection.execute(delete(conversations).where(conversations.c.respondent == respondent))
                return None
            await self._write_response(connection, respondent, old, new, at)
            return await self._write_cursor(connection, respondent, before.version, new, at)

    async def _write_response(self, connection, respondent: str, old: Session | None, new: Session, at) -> None:
        if not new.response_id:
            return
        same = old is not None and old.response_id == new.response_id
        if not same:
            await connection.execute(
                responses.insert().values(
                    id=new.response_id,
                    respondent=respondent,
                    survey_id=self.survey_id,
                    survey_version=self.survey_version,
                    language=new.language,
                    started_at=at,
                )
            )
        changes = {}
        if same and old.language != new.language:
            changes["language"] = new.language
        if new.stage == DONE and (not same or old.stage != DONE):
            changes["completed_at"] = at
        if changes:
            await connection.execute(update(responses).where(responses.c.id == new.response_id).values(**changes))
        before = old.answers if same else {}
        changed = [(q, a) for q, a in new.answers.items() if before.get(q) != a]
        if changed:
            statement = _insert(connection, answers)
            await connection.execute(
                statement.on_conflict_do_update(
                    index_elements=["response_id", "question"],
                    set_={"codes": statement.excluded.codes, "other": statement.excluded.other,
                          "answered_at": statement.excluded.answered_at},
                ),
                [
                    {"response_id": new.response_id, "question": q, "codes": ",".join(a.codes), "other": a.other,
                     "answered_at": at}
                    for q, a in changed
                ],
            )
        dropped = [q for q in before if q not in new.answers]
        if dropped:
            await connection.execute(
                delete(answers).where(answers.c.response_id == new.response_id, answers.c.question.in_(dropped))
            )

    async def _write_cursor(self, connection, respondent: str, version: int | None, new: Session, at) -> int:
        if version is None:
            inserted = await connection.execute(
                _insert(connection, conversations)
                .values(respondent=respondent, state=new.cursor(), version=1, updated_at=at)
                .on_conflict_do_nothing(index_elements=["respondent"])
            )
            if inserted.rowcount == 0:
                raise StaleSession(respondent)
            return 1
        moved = await connection.execute(
            update(conversations)
            .where(conversations.c.respondent == respondent, conversations.c.version == version)
            .values(state=new.cursor(), version=version + 1, updated_at=at)
        )
        if moved.rowcount == 0:
            raise StaleSession(respondent)
        return version + 1

    async def _forget(self, connection, respondent: str) -> None:
        ids = (await connection.execute(select(responses.c.id).where(responses.c.respondent == respondent))).scalars()
        await self._delete_responses(connection, list(ids))
        await connection.execute(delete(conversations).where(conversations.c.respondent == respondent))

    async def _delete_responses(self, connection, ids: list[str]) -> None:
        if ids:
            await connection.execute(delete(answers).where(answers.c.response_id.in_(ids)))
            await connection.execute(delete(responses).where(responses.c.id.in_(ids)))

    async def _count(self, connection, name: str, at: datetime) -> None:
        statement = _insert(connection, daily_counters).values(name=name, day=at.date(), value=1)
        await connection.execute(
            statement.on_conflict_do_update(
                index_elements=["name", "day"], set_={"value": daily_counters.c.value + 1}
            )
        )

    async def counter(self, name: str) -> int:
        async with self.engine.connect() as connection:
            rows = await connection.execute(select(daily_counters.c.value).where(daily_counters.c.name == name))
            return sum(rows.scalars())

"""Reads and writes what the conversations need.

Writes go in batches (`save_many`): the handled events of many users in one transaction, so one commit serves
them all while each answer is still committed before its reply is sent. Inside a batch every statement is a
multi-row one: claim the event ids, upsert the changed answers, move the conversation cursors with a version
guard. Anything unusual (a redelivered event, a cursor another process moved) rolls the batch back and the
events are written one by one, where each gets its own verdict.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from handlers.conversation import DISCARD_RESPONSE
from handlers.events import COUNT_DECLINE, FORGET, Reply
from handlers.session import DONE, Answer, Session
from handlers.complaints.records import FileComplaint, SupportComplaint
from storage import complaints as complaint_records
from storage import ideas as idea_records
from storage import outbox as outbox_records
from storage.models import AnswerRow, ContactRow, ConversationRow, DailyCounterRow, InboundEventRow, ResponseRow
from storage.time import now

conversations, responses, answers = ConversationRow.__table__, ResponseRow.__table__, AnswerRow.__table__
inbound_events, daily_counters, contacts = InboundEventRow.__table__, DailyCounterRow.__table__, ContactRow.__table__

DUPLICATE, STALE = "duplicate", "stale"  # verdicts besides the new version number


@dataclass(frozen=True)
class Loaded:
    session: Session | None
    version: int | None  # None: no conversation row yet


@dataclass(frozen=True)
class Write:
    """What handling one event changes for one respondent."""

    channel: str
    event_id: str
    respondent: str
    before: Loaded
    reply: Reply
    address: str = ""  # the chat id on the channel: kept (in contacts) only when the citizen files or backs something


class _Anomaly(Exception):
    def __init__(self, verdicts: dict[int, str]):
        self.verdicts = verdicts


def _statements(dialect) -> dict:
    """Built once per dialect: statement construction is a large share of the hot path otherwise."""
    claim = dialect.insert(inbound_events).on_conflict_do_nothing(index_elements=["channel", "event_id"])
    answer = dialect.insert(answers)
    answer = answer.on_conflict_do_update(
        index_elements=["response_id", "question"],
        set_={"codes": answer.excluded.codes, "other": answer.excluded.other, "answered_at": answer.excluded.answered_at},
    )
    cursor = dialect.insert(conversations)
    cursor = cursor.on_conflict_do_update(
        index_elements=["respondent"],
        set_={"state": cursor.excluded.state, "version": cursor.excluded.version, "updated_at": cursor.excluded.updated_at},
        where=conversations.c.version == cursor.excluded.version - 1,
    )
    count = dialect.insert(daily_counters)
    count = count.on_conflict_do_update(index_elements=["name", "day"], set_={"value": daily_counters.c.value + 1})
    contact = dialect.insert(contacts)
    contact = contact.on_conflict_do_update(
        index_elements=["respondent"],
        set_={k: contact.excluded[k] for k in ("channel", "address", "language", "updated_at")},
    )
    return {
        "contact": contact,
        "claim": claim.returning(inbound_events.c.event_id),
        "answer": answer,
        "cursor": cursor.returning(conversations.c.respondent),
        "count": count,
    }


_STATEMENTS = {"postgresql": _statements(postgresql), "sqlite": _statements(sqlite)}


class Repository:
    def __init__(self, engine: AsyncEngine, survey_id: str, survey_version: int):
        self.engine = engine
        self.survey_id, self.survey_version = survey_id, survey_version
        self._sql = _STATEMENTS[engine.dialect.name]

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

    async def save_many(self, writes: list[Write]) -> list[int | None | str]:
        """Persist handled events; per event the conversation's new version (None when nothing of the respondent
        is kept any more), DUPLICATE (handled before: nothing written) or STALE (reload and handle again)."""
        try:
            return await self._transaction(writes)
        except _Anomaly as anomaly:
            if len(writes) == 1:
                return [anomaly.verdicts[0]]
        return [(await self.save_many([w]))[0] for w in writes]

    async def _transaction(self, writes: list[Write]) -> list[int | None | str]:
        at = now()
        async with self.engine.begin() as connection:
            claimed = set(
                (
                    await connection.execute(
                        self._sql["claim"], [{"channel": w.channel, "event_id": w.event_id, "seen_at": at} for w in writes]
                    )
                ).scalars()
            )
            if len(claimed) < len(writes):
                raise _Anomaly({i: DUPLICATE for i, w in enumerate(writes) if w.event_id not in claimed})
            rows, cursors, verdicts = [], [], []
            for i, w in enumerate(writes):
                new = w.reply.session
                if new is None and w.before.version is not None:
                    # As guarded as a cursor move: a process with an outdated screen must not delete.
                    gone = await connection.execute(
                        delete(conversations).where(
                            conversations.c.respondent == w.respondent, conversations.c.version == w.before.version
                        )
                    )
                    if gone.rowcount == 0:
                        raise _Anomaly({i: STALE})
                await self._effects(connection, w, at)
                if new is None:
                    verdicts.append(None)
                    continue
                rows += await self._response(connection, w, at)
                version = (w.before.version or 0) + 1
                cursors.append({"respondent": w.respondent, "state": new.cursor(), "version": version, "updated_at": at})
                verdicts.append(version)
            if rows:
                await connection.execute(self._sql["answer"], rows)
            if cursors:
                moved = set((await connection.execute(self._sql["cursor"], cursors)).scalars())
                if len(moved) < len(cursors):
                    raise _Anomaly({i: STALE for i, w in enumerate(writes) if w.respondent not in moved})
            return verdicts

    async def _effects(self, connection: AsyncConnection, w: Write, at: datetime) -> None:
        old = w.before.session
        for effect in w.reply.effects:
            if not isinstance(effect, str):
                await self._record(connection, w, effect, at)
            elif effect == FORGET:
                ids = (await connection.execute(select(responses.c.id).where(responses.c.respondent == w.respondent)))
                await self._delete_responses(connection, list(ids.scalars()))
                await complaint_records.forget(connection, w.respondent)
                await idea_records.forget(connection, w.respondent)
                await outbox_records.forget(connection, w.respondent)
            elif effect == COUNT_DECLINE:
                await connection.execute(self._sql["count"], {"name": "consent_declined", "day": at.date(), "value": 1})
            elif effect == DISCARD_RESPONSE and old is not None and old.response_id:
                await self._delete_responses(connection, [old.response_id])

    async def _record(self, connection: AsyncConnection, w: Write, effect: object, at: datetime) -> None:
        """A complaint or idea record the conversation produced; whoever files or backs one can be told of
        its progress, so their chat address is kept from now on (until /forget)."""
        language = getattr(w.reply.session, "language", None) or "ru"
        await connection.execute(self._sql["contact"], {
            "respondent": w.respondent, "channel": w.channel, "address": w.address, "language": language,
            "updated_at": at,
        })
        if isinstance(effect, FileComplaint):
            await complaint_records.file(connection, effect, reporter=w.respondent, source=w.channel, at=at)
        elif isinstance(effect, SupportComplaint):
            await complaint_records.support(connection, effect.number, w.respondent, at)
        else:
            await idea_records.apply(connection, effect, w.respondent, at)

    async def _response(self, connection: AsyncConnection, w: Write, at: datetime) -> list[dict]:
        """Writes the response row when it starts or changes; returns the answer rows to upsert."""
        old, new = w.before.session, w.reply.session
        if not new.response_id:
            return []
        same = old is not None and old.response_id == new.response_id
        if not same:
            await connection.execute(
                responses.insert().values(
                    id=new.response_id, respondent=w.respondent, survey_id=self.survey_id,
                    survey_version=self.survey_version, language=new.language, started_at=at,
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
        dropped = [q for q in before if q not in new.answers]
        if dropped:
            await connection.execute(
                delete(answers).where(answers.c.response_id == new.response_id, answers.c.question.in_(dropped))
            )
        return [
            {"response_id": new.response_id, "question": q, "codes": ",".join(a.codes), "other": a.other, "answered_at": at}
            for q, a in new.answers.items()
            if before.get(q) != a
        ]

    async def _delete_responses(self, connection: AsyncConnection, ids: list[str]) -> None:
        if ids:
            await connection.execute(delete(answers).where(answers.c.response_id.in_(ids)))
            await connection.execute(delete(responses).where(responses.c.id.in_(ids)))

    async def counter(self, name: str) -> int:
        async with self.engine.connect() as connection:
            rows = await connection.execute(select(daily_counters.c.value).where(daily_counters.c.name == name))
            return sum(rows.scalars())

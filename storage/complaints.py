"""Complaints in the database: filing (from a chat or the Open311 API), finding, listing, supporting and moving
them through their states. A state change writes the history row and the citizens' push messages (outbox) in
the same transaction, so nobody is told about a change that did not happen, nor left untold about one that did.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from math import cos, radians

from sqlalchemy import and_, func, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from handlers.complaints.places import address_key
from handlers.complaints.records import ComplaintView, FileComplaint
from handlers.complaints.states import OPEN_STATES, SUBMITTED, check_transition
from handlers.deployment import metres_between
from storage.models import ComplaintHistoryRow, ComplaintRow, ComplaintSupporterRow, OutboxRow
from storage.time import now

complaints, history = ComplaintRow.__table__, ComplaintHistoryRow.__table__
supporters, outbox = ComplaintSupporterRow.__table__, OutboxRow.__table__
DUPLICATE_METRES, DUPLICATE_DAYS = 150, 30
_DIALECTS = {"postgresql": postgresql, "sqlite": sqlite}


class NotFound(LookupError):
    pass


@dataclass(frozen=True)
class StaffView:
    """A complaint as staff see it: the full text, where it came from, its history."""

    complaint: ComplaintView
    source: str
    client: str | None
    personal: dict | None
    history: list[tuple[datetime, str, str | None, str]]  # at, state, note, actor


def _view(row, asker: str | None = None, supporters_count: int = 0, supported: bool = False) -> ComplaintView:
    return ComplaintView(
        number=row.number, service_code=row.service_code, state=row.state, description=row.description,
        address=row.address, latitude=row.latitude, longitude=row.longitude, created_at=row.created_at,
        updated_at=row.updated_at, state_note=row.state_note, supporters=supporters_count,
        mine=asker is not None and row.reporter == asker, supported=supported, photo=row.photo,
    )


async def file(
    connection: AsyncConnection, record: FileComplaint, *, reporter: str | None, source: str, at: datetime,
    client: str | None = None, personal: dict | None = None,
) -> int:
    """Inserts the complaint and its first history entry; returns its row id."""
    result = await connection.execute(
        complaints.insert().values(
            number=record.number, token=record.token, service_code=record.service_code,
            description=record.description, photo=record.photo, latitude=record.latitude,
            longitude=record.longitude, address=record.address, address_key=address_key(record.address),
            reporter=reporter, source=source, client=client, personal=personal, language=record.language,
            state=SUBMITTED, created_at=at, updated_at=at,
        ).returning(complaints.c.id)
    )
    complaint_id = result.scalar_one()
    await connection.execute(history.insert().values(
        complaint_id=complaint_id, state=SUBMITTED, note=None, actor=source, at=at))
    return complaint_id


async def support(connection: AsyncConnection, number: str, supporter: str, at: datetime) -> None:
    row = (await connection.execute(select(complaints.c.id, complaints.c.reporter).where(
        complaints.c.number == number))).first()
    if row is None or row.reporter == supporter:
        return  # gone meanwhile, or one's own: nothing to add
    insert = _DIALECTS[connection.dialect.name].insert(supporters).on_conflict_do_nothing()
    await connection.execute(insert.values(complaint_id=row.id, supporter=supporter, at=at))


async def forget(connection: AsyncConnection, respondent: str) -> None:
    """/forget: the complaints stay (the city still has to fix the pothole) but no longer point at the citizen."""
    await connection.execute(complaints.update().where(complaints.c.reporter == respondent).values(reporter=None))
    await connection.execute(supporters.delete().where(supporters.c.supporter == respondent))


async def set_state(engine: AsyncEngine, number: str, state: str, note: str | None, actor: str) -> ComplaintView:
    """Moves a complaint to a new state and queues a message to its author and supporters."""
    async with engine.begin() as connection:
        row = (await connection.execute(select(complaints).where(complaints.c.number == number))).first()
        if row is None:
            raise NotFound(number)
        check_transition(row.state, state, note)
        at = now()
        await connection.execute(complaints.update().where(complaints.c.id == row.id).values(
            state=state, state_note=note or None, updated_at=at))
        await connection.execute(history.insert().values(
            complaint_id=row.id, state=state, note=note or None, actor=actor, at=at))
        backers = (await connection.execute(select(supporters.c.supporter).where(
            supporters.c.complaint_id == row.id))).scalars()
        citizens = [c for c in dict.fromkeys([row.reporter, *backers]) if c]
        if citizens:
            params = {"number": number, "state": state, "note": note or None}
            await connection.execute(outbox.insert(), [
                {"respondent": c, "kind": "complaint_state", "params": params, "created_at": at, "attempts": 0}
                for c in citizens
            ])
        row = (await connection.execute(select(complaints).where(complaints.c.id == row.id))).first()
        count = await _supporter_count(connection, row.id)
    return _view(row, supporters_count=count)


async def _supporter_count(connection: AsyncConnection, complaint_id: int) -> int:
    return (await connection.execute(select(func.count()).select_from(supporters).where(
        supporters.c.complaint_id == complaint_id))).scalar_one()


async def staff_view(engine: AsyncEngine, number: str) -> StaffView:
    async with engine.connect() as connection:
        row = (await connection.execute(select(complaints).where(complaints.c.number == number))).first()
        if row is None:
            raise NotFound(number)
        steps = (await connection.execute(select(history.c.at, history.c.state, history.c.note, history.c.actor).where(
            history.c.complaint_id == row.id).order_by(history.c.id))).all()
        count = await _supporter_count(connection, row.id)
    return StaffView(_view(row, supporters_count=count), row.source, row.client, row.personal,
                     [tuple(s) for s in steps])


async def query(
    engine: AsyncEngine, *, service_codes: list[str] | None = None, states: list[str] | None = None,
    start: datetime | None = None, end: datetime | None = None, numbers: list[str] | None = None,
    limit: int = 1000,
) -> list[ComplaintView]:
    """Newest first; the filters of the staff list and of Open311's GET requests."""
    counts = (select(supporters.c.complaint_id, func.count().label("n"))
              .group_by(supporters.c.complaint_id).subquery())
    statement = select(complaints, func.coalesce(counts.c.n, 0).label("backers")).outerjoin(
        counts, counts.c.complaint_id == complaints.c.id)
    if service_codes:
        statement = statement.where(complaints.c.service_code.in_(service_codes))
    if states:
        statement = statement.where(complaints.c.state.in_(states))
    if start is not None:
        statement = statement.where(complaints.c.created_at >= start)
    if end is not None:
        statement = statement.where(complaints.c.created_at <= end)
    if numbers:
        statement = statement.where(complaints.c.number.in_(numbers))
    statement = statement.order_by(complaints.c.created_at.desc(), complaints.c.id.desc()).limit(limit)
    async with engine.connect() as connection:
        rows = (await connection.execute(statement)).all()
    return [_view(r, supporters_count=r.backers) for r in rows]


async def by_token(engine: AsyncEngine, token: str) -> str | None:
    async with engine.connect() as connection:
        return (await connection.execute(select(complaints.c.number).where(complaints.c.token == token))).scalar()


class ComplaintStore:
    """The complaint conversation's window on storage (handlers.complaints.records.ComplaintRecords)."""

    def __init__(self, engine: AsyncEngine):
        self.engine = engine

    async def filed_since(self, reporter: str, since: datetime) -> int:
        async with self.engine.connect() as connection:
            return (await connection.execute(select(func.count()).select_from(complaints).where(
                complaints.c.reporter == reporter, complaints.c.created_at >= since))).scalar_one()

    async def nearby_open(self, service_code, latitude, longitude, address_key_, since, asker) -> list[ComplaintView]:
        near = []
        if latitude is not None and longitude is not None:
            # A box around the point narrows the search in SQL; the exact distance is checked below.
            dlat = DUPLICATE_METRES / 111_320
            dlon = DUPLICATE_METRES / (111_320 * max(cos(radians(latitude)), 0.01))
            near.append(and_(complaints.c.latitude.between(latitude - dlat, latitude + dlat),
                             complaints.c.longitude.between(longitude - dlon, longitude + dlon)))
        if address_key_:
            near.append(complaints.c.address_key == address_key_)
        if not near:
            return []
        async with self.engine.connect() as connection:
            rows = (await connection.execute(select(complaints).where(
                complaints.c.service_code == service_code, complaints.c.state.in_(OPEN_STATES),
                complaints.c.created_at >= since, or_(*near),
            ).order_by(complaints.c.created_at.desc()).limit(20))).all()
            found = []
            for row in rows:
                by_place = row.latitude is not None and latitude is not None and metres_between(
                    (latitude, longitude), (row.latitude, row.longitude)) <= DUPLICATE_METRES
                by_address = address_key_ is not None and row.address_key == address_key_
                if by_place or by_address:
                    found.append(await self._viewed(connection, row, asker))
        return found

    async def find(self, number: str, asker: str) -> ComplaintView | None:
        async with self.engine.connect() as connection:
            row = (await connection.execute(select(complaints).where(complaints.c.number == number))).first()
            return None if row is None else await self._viewed(connection, row, asker)

    async def of_citizen(self, asker: str, limit: int = 10) -> list[ComplaintView]:
        backed = select(supporters.c.complaint_id).where(supporters.c.supporter == asker)
        async with self.engine.connect() as connection:
            rows = (await connection.execute(select(complaints).where(
                or_(complaints.c.reporter == asker, complaints.c.id.in_(backed))
            ).order_by(complaints.c.created_at.desc()).limit(limit))).all()
            return [await self._viewed(connection, row, asker) for row in rows]

    async def _viewed(self, connection: AsyncConnection, row, asker: str) -> ComplaintView:
        count = await _supporter_count(connection, row.id)
        mine_backed = (await connection.execute(select(func.count()).select_from(supporters).where(
            supporters.c.complaint_id == row.id, supporters.c.supporter == asker))).scalar_one()
        return _view(row, asker, count, bool(mine_backed))


def since_days(days: int) -> datetime:
    return now() - timedelta(days=days)

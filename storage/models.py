"""The schema. Answers are keyed by a random response id; the respondent pseudonym links a response to its
conversation (for resume and /forget) and never leaves the database: exports do not select it."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, BigInteger, Date, DateTime, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class ConversationRow(Base):
    """Where a respondent is in the conversation (the session cursor). `version` guards concurrent writers."""

    __tablename__ = "conversations"
    respondent: Mapped[str] = mapped_column(String(64), primary_key=True)
    state: Mapped[dict] = mapped_column(JSON)
    version: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ResponseRow(Base):
    __tablename__ = "responses"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    respondent: Mapped[str] = mapped_column(String(64), index=True)
    survey_id: Mapped[str] = mapped_column(String(64))
    survey_version: Mapped[int] = mapped_column(Integer)
    language: Mapped[str] = mapped_column(String(8))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True, nullable=True)


class AnswerRow(Base):
    __tablename__ = "answers"
    __table_args__ = {"sqlite_with_rowid": False}  # SQLite keeps the rows in the key's B-tree (migration 0003)
    response_id: Mapped[str] = mapped_column(ForeignKey("responses.id", ondelete="CASCADE"), primary_key=True)
    question: Mapped[str] = mapped_column(String(32), primary_key=True)
    codes: Mapped[str] = mapped_column(String(64))  # option codes, comma-separated for a multi-select
    other: Mapped[str | None] = mapped_column(Text, nullable=True)
    answered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class InboundEventRow(Base):
    """Events already handled, so a redelivered update or a replayed webhook is not handled twice."""

    __tablename__ = "inbound_events"
    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class DailyCounterRow(Base):
    """Anonymous tallies, e.g. declined consents: the only trace a refusal leaves."""

    __tablename__ = "daily_counters"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    value: Mapped[int] = mapped_column(Integer)


class ContactRow(Base):
    """How to reach a citizen who filed or backs a complaint or an idea: the only place a chat address is kept,
    apart from the anonymous survey answers, and deleted by /forget."""

    __tablename__ = "contacts"
    respondent: Mapped[str] = mapped_column(String(64), primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    address: Mapped[str] = mapped_column(String(128))  # the chat id on that channel
    language: Mapped[str] = mapped_column(String(8))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ComplaintRow(Base):
    __tablename__ = "complaints"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    number: Mapped[str] = mapped_column(String(24), unique=True)  # the tracking number citizens quote
    token: Mapped[str] = mapped_column(String(32), unique=True)  # Open311 token
    service_code: Mapped[str] = mapped_column(String(32))
    description: Mapped[str] = mapped_column(Text)
    photo: Mapped[str | None] = mapped_column(String(128), nullable=True)  # file-store key
    latitude: Mapped[float | None] = mapped_column(Float, nullable=True)
    longitude: Mapped[float | None] = mapped_column(Float, nullable=True)
    address: Mapped[str | None] = mapped_column(Text, nullable=True)
    address_key: Mapped[str | None] = mapped_column(String(200), nullable=True, index=True)
    reporter: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)  # pseudonym; None via API
    source: Mapped[str] = mapped_column(String(16))  # the channel, or "open311"
    client: Mapped[str | None] = mapped_column(String(64), nullable=True)  # the API client that posted it
    personal: Mapped[dict | None] = mapped_column(JSON, nullable=True)  # Open311 e-mail, name, phone: staff only
    language: Mapped[str | None] = mapped_column(String(8), nullable=True)
    state: Mapped[str] = mapped_column(String(16))
    state_note: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ComplaintHistoryRow(Base):
    __tablename__ = "complaint_history"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id", ondelete="CASCADE"), index=True)
    state: Mapped[str] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    actor: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ComplaintSupporterRow(Base):
    """Citizens who backed an existing complaint instead of filing a duplicate; they hear its updates too."""

    __tablename__ = "complaint_supporters"
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id", ondelete="CASCADE"), primary_key=True)
    supporter: Mapped[str] = mapped_column(String(64), primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class IdeaRow(Base):
    __tablename__ = "ideas"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    cycle: Mapped[str] = mapped_column(String(16), index=True)
    district: Mapped[str] = mapped_column(String(32))
    category: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text)
    photo: Mapped[str | None] = mapped_column(String(128), nullable=True)
    cost: Mapped[int | None] = mapped_column(BigInteger, nullable=True)  # estimated, in the local currency
    author: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    language: Mapped[str] = mapped_column(String(8))
    state: Mapped[str] = mapped_column(String(16))  # pending | approved | rejected
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    moderated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class IdeaSupportRow(Base):
    """One row per supporter and idea: the primary key is what makes "support once" hold under any concurrency."""

    __tablename__ = "idea_supports"
    idea_id: Mapped[int] = mapped_column(ForeignKey("ideas.id", ondelete="CASCADE"), primary_key=True)
    supporter: Mapped[str] = mapped_column(String(64), primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class OutboxRow(Base):
    """Messages to push to a citizen (status changes, moderation results), written in the transaction that
    caused them and delivered by whichever bot process runs the citizen's channel."""

    __tablename__ = "outbox"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    respondent: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    params: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)

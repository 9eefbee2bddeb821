"""The schema. Answers are keyed by a random response id; the respondent pseudonym links a response to its
conversation (for resume and /forget) and never leaves the database: exports do not select it."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, DateTime, ForeignKey, Integer, String, Text
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

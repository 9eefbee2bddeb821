"""The survey: conversations, responses, answers, handled events, anonymous counters.

Revision ID: 0001
Revises:
"""
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "conversations",
        sa.Column("respondent", sa.String(64), primary_key=True),
        sa.Column("state", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_table(
        "responses",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("respondent", sa.String(64), nullable=False, index=True),
        sa.Column("survey_id", sa.String(64), nullable=False),
        sa.Column("survey_version", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("completed_at", TS, nullable=True, index=True),
    )
    op.create_table(
        "answers",
        sa.Column("response_id", sa.String(32), sa.ForeignKey("responses.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("question", sa.String(32), primary_key=True),
        sa.Column("codes", sa.String(64), nullable=False),
        sa.Column("other", sa.Text(), nullable=True),
        sa.Column("answered_at", TS, nullable=False),
    )
    op.create_table(
        "inbound_events",
        sa.Column("channel", sa.String(16), primary_key=True),
        sa.Column("event_id", sa.String(128), primary_key=True),
        sa.Column("seen_at", TS, nullable=False, index=True),
    )
    op.create_table(
        "daily_counters",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("value", sa.Integer(), nullable=False),
    )


def downgrade() -> None:
    for table in ("daily_counters", "inbound_events", "answers", "responses", "conversations"):
        op.drop_table(table)

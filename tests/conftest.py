"""Shared fixtures. Every storage-backed test runs twice: on SQLite and on the machine's PostgreSQL, each test
in a schema of its own that is dropped afterwards."""
from __future__ import annotations

import io
import os
import uuid
from dataclasses import dataclass

import asyncpg
import pytest

from bot.console import ConsoleChannel
from bot.service import build
from bot.settings import Settings
from handlers.session import Session
from storage.pseudonyms import pseudonym

POSTGRES_DSN = os.environ.get("PIKIR_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")


@dataclass(frozen=True)
class Database:
    kind: str
    url: str
    schema: str | None = None

    def env(self, data_dir) -> dict[str, str]:
        """The environment a bot subprocess needs to use this database."""
        env = {"DATABASE_URL": self.url, "PIKIR_DATA_DIR": str(data_dir), "PIKIR_SECRET": "test-secret"}
        if self.schema:
            env["PIKIR_DB_SCHEMA"] = self.schema
        return env


@pytest.fixture(params=["sqlite", "postgresql"])
async def database(request, tmp_path):
    if request.param == "sqlite":
        yield Database("sqlite", f"sqlite+aiosqlite:///{tmp_path}/pikir.sqlite3")
        return
    schema = f"test_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(POSTGRES_DSN)
    try:
        await admin.execute(f'CREATE SCHEMA "{schema}"')
        yield Database("postgresql", POSTGRES_DSN, schema)
    finally:
        await admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        await admin.close()


@pytest.fixture
def settings(database, tmp_path) -> Settings:
    return Settings.from_env(database.env(tmp_path))


@pytest.fixture
async def app(settings):
    app = await build(settings)
    yield app
    await app.close()


async def stored_session(app, user: str, channel: str = "console") -> Session | None:
    """What the database holds for one user now (their session with its answers), looked up as the bot does."""
    return (await app.service.repository.load(pseudonym(app.settings.secret, channel, str(user)))).session


async def stored_codes(app, user: str, channel: str = "console") -> dict[str, tuple[str, ...]]:
    session = await stored_session(app, user, channel)
    return {q: a.codes for q, a in session.answers.items()} if session else {}


class Transcript(ConsoleChannel):
    """The console channel writing to memory, with what tests need to read back."""

    def __init__(self, service, user_id="citizen-1", files=None):
        super().__init__(service, user_id=user_id, out=io.StringIO(), files=files)

    async def say(self, text: str):
        self.last = await super().say(text)
        return self.last

    @property
    def text(self) -> str:
        return "\n".join(m.text for m in self.last)

    async def many(self, *lines: str):
        for line in lines:
            await self.say(line)
        return self.last


@pytest.fixture
def console(app) -> Transcript:
    return Transcript(app.service)

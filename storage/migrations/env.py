"""Alembic environment. The app passes its own connection (see storage.database.upgrade); the `alembic`
command line gets DATABASE_URL from the environment instead."""
import asyncio
import os

from alembic import context

from storage.database import make_engine
from storage.models import Base

target_metadata = Base.metadata


def run_with(connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


async def run_from_environment() -> None:
    engine = make_engine(os.environ.get("DATABASE_URL", "sqlite+aiosqlite:///.data/pikir.sqlite3"))
    async with engine.begin() as connection:
        await connection.run_sync(run_with)
    await engine.dispose()


connection = context.config.attributes.get("connection")
if connection is not None:
    run_with(connection)
else:
    asyncio.run(run_from_environment())

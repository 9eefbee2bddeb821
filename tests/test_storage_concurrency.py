"""The write path under concurrency: group commits, redeliveries inside a batch, two processes, many users."""
from __future__ import annotations

import asyncio
import uuid

from bot.service import Service
from handlers.events import Inbound
from tests.conftest import stored_codes
from tests.survey_paths import FULL, opening


def event(user: str, text: str, event_id: str | None = None) -> Inbound:
    return Inbound("test", user, event_id or uuid.uuid4().hex, text=text)


async def answers(app, user):
    return await stored_codes(app, user, channel="test")


async def test_fifty_users_at_once_each_complete_and_in_order(app):
    users = [f"user-{i}" for i in range(50)]

    async def survey(user):
        for text in opening("ru") + FULL:
            await app.service.handle(event(user, text))

    await asyncio.gather(*(survey(u) for u in users))
    async with app.engine.connect() as connection:
        completed = (await connection.exec_driver_sql(
            "SELECT count(*) FROM responses WHERE completed_at IS NOT NULL")).scalar()
        stored = (await connection.exec_driver_sql("SELECT count(*) FROM answers")).scalar()
    assert completed == 50 and stored == 50 * 32


async def test_a_redelivered_event_inside_a_busy_batch_does_not_hold_up_the_others(app):
    for user in ("a", "b", "c"):
        for text in opening("ru"):
            await app.service.handle(event(user, text))
    await app.service.handle(event("a", "2", event_id="again"))
    replies = await asyncio.gather(
        app.service.handle(event("a", "1", event_id="again")),  # a redelivery: must not answer q2
        app.service.handle(event("b", "3")),
        app.service.handle(event("c", "4")),
    )
    assert replies[0] == [] and replies[1][0].prompt == "q2" and replies[2][0].prompt == "q7"
    assert await answers(app, "a") == {"q1": ("2",)}
    assert await answers(app, "b") == {"q1": ("3",)} and await answers(app, "c") == {"q1": ("4",)}


async def test_two_processes_serving_one_user_never_lose_an_answer(app):
    """Webhook workers may alternate for one user; each one's cached session goes stale and is reloaded."""
    other = Service(app.service.conversation, app.service.repository, app.settings.secret)
    services = [app.service, other]
    for i, text in enumerate(opening("ru") + FULL[:10]):
        await services[i % 2].handle(event("shared", text))
    assert list(await answers(app, "shared")) == ["q1", "q2", "q3", "q4", "q5", "s1", "s2", "s3", "s4", "s5"]
    await other.committer.close()

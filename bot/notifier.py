"""Delivers queued push messages (storage/outbox.py) through the channels this process runs.

Each channel registers a sender: `async send(address, Outbound)`. A message is marked sent once its channel
accepted it, so a crash between the two may send it twice but never loses it; failures are retried later.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncEngine

from handlers.events import Outbound
from handlers.notifications import render
from storage import outbox

log = logging.getLogger(__name__)
Sender = Callable[[str, Outbound], Awaitable[None]]


class Notifier:
    def __init__(self, engine: AsyncEngine, senders: dict[str, Sender] | None = None, interval: float = 2.0):
        self.engine, self.senders, self.interval = engine, dict(senders or {}), interval
        self._task: asyncio.Task | None = None

    def add(self, channel: str, sender: Sender) -> None:
        self.senders[channel] = sender

    async def deliver_once(self) -> int:
        """Sends what is waiting for the registered channels; returns how many went out."""
        if not self.senders:
            return 0
        waiting = await outbox.pending(self.engine, list(self.senders))
        sent, failed = [], []
        for item in waiting:
            try:
                await self.senders[item.channel](item.address, render(item.kind, item.params, item.language))
                sent.append(item.id)
            except Exception:  # noqa: BLE001 - one citizen's blocked chat must not stop the others' messages
                log.warning("push message %s via %s failed; will retry", item.id, item.channel, exc_info=True)
                failed.append(item.id)
        await outbox.mark_sent(self.engine, sent)
        await outbox.mark_failed(self.engine, failed)
        return len(sent)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while True:
            try:
                await self.deliver_once()
            except Exception:  # noqa: BLE001 - a database hiccup must not end push delivery for good
                log.exception("push delivery failed; trying again")
            await asyncio.sleep(self.interval)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

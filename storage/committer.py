"""Group commit: events handled at the same moment by different users share one transaction.

A writer task takes whatever writes are waiting (up to `max_batch`), saves them together and wakes each
caller with its own verdict. Alone, a write goes out at once; under load, batches grow by themselves, and a
commit's cost is shared, which is how throughput passes the single-row commit ceiling of the database.
"""
from __future__ import annotations

import asyncio

from storage.repository import Repository, Write


class GroupCommitter:
    def __init__(self, repository: Repository, writers: int = 1, max_batch: int = 64):
        self.repository, self.writers, self.max_batch = repository, writers, max_batch
        self._queue: asyncio.Queue[tuple[Write, asyncio.Future]] = asyncio.Queue()
        self._tasks: list[asyncio.Task] = []

    async def save(self, write: Write) -> int | None | str:
        if not self._tasks:
            self._tasks = [asyncio.create_task(self._run()) for _ in range(self.writers)]
        done = asyncio.get_running_loop().create_future()
        await self._queue.put((write, done))
        return await done

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < self.max_batch and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                verdicts = await self.repository.save_many([write for write, _ in batch])
            except BaseException as error:  # noqa: BLE001 - every waiting caller must hear about it
                for _, done in batch:
                    if not done.done():
                        done.set_exception(error if isinstance(error, Exception) else RuntimeError(repr(error)))
                if not isinstance(error, Exception):
                    raise
                continue
            for (_, done), verdict in zip(batch, verdicts):
                if not done.done():
                    done.set_result(verdict)

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []

"""The console channel: a line-oriented transcript for trying the bot in a terminal or piping a survey in.

Choices are numbered 1., 2., …; answer with a number, several numbers separated by commas for a
multi-select, or text. Commands work as on Telegram. It reads standard input until end of input.
"""
from __future__ import annotations

import asyncio
import sys
import uuid
from typing import TextIO

from bot.service import Service
from handlers.events import NOTICE, Inbound, Outbound

CHANNEL = "console"


def render(message: Outbound) -> str:
    if message.kind == NOTICE:
        return f"! {message.text}"
    lines = [message.text]
    for number, choice in enumerate(message.choices, start=1):
        mark = "✓ " if choice.picked else ""
        lines.append(f"  {number}. {mark}{choice.label}")
    # Done is implied: a typed list of numbers is the whole selection. Back is the /back command.
    lines += [f"  /{action.key} — {action.label}" for action in message.actions if action.key == "back"]
    return "\n".join(lines)


class ConsoleChannel:
    def __init__(self, service: Service, user_id: str = "local", out: TextIO = sys.stdout, echo: bool = False):
        self.service, self.user_id, self.out, self.echo = service, user_id, out, echo

    def event(self, text: str, event_id: str | None = None) -> Inbound:
        return Inbound(CHANNEL, self.user_id, event_id or uuid.uuid4().hex, text=text)

    async def deliver(self, event: Inbound) -> list[Outbound]:
        messages = await self.service.handle(event)
        for message in messages:
            print(render(message), end="\n\n", file=self.out)
        self.out.flush()
        return messages

    async def say(self, text: str) -> list[Outbound]:
        if self.echo:
            print(f"> {text}", file=self.out)
        return await self.deliver(self.event(text))

    async def run(self, lines: TextIO) -> None:
        loop = asyncio.get_running_loop()
        while True:
            if lines.isatty():
                print("> ", end="", file=self.out, flush=True)
            line = await loop.run_in_executor(None, lines.readline)
            if not line:  # end of input
                return
            await self.say(line.rstrip("\r\n"))

"""The console channel: a line-oriented transcript for trying the bot in a terminal or piping a survey in.

Choices are numbered 1., 2., …; answer with a number, several numbers separated by commas for a
multi-select, or text. Commands work as on Telegram. It reads standard input until end of input.
What a phone would attach is typed as a line of its own:

    [photo] path/to/picture.jpg [caption]      a photo from a file
    [location] 43.2380, 76.9450                a shared location pin
"""
from __future__ import annotations

import asyncio
import re
import sys
import uuid
from pathlib import Path
from typing import TextIO

from bot.service import Service
from handlers.events import NOTICE, Attachment, Inbound, Location, Outbound
from storage.files import MAX_BYTES, FileStore, sniff_image

CHANNEL = "console"


def render(message: Outbound) -> str:
    if message.kind == NOTICE:
        return f"! {message.text}"
    lines = [message.text]
    for number, choice in enumerate(message.choices, start=1):
        mark = "✓ " if choice.picked else ""
        lines.append(f"  {number}. {mark}{choice.label}")
    # Done is implied: a typed list of numbers is the whole selection. Back is the /back command.
    lines += [f"  /{action.key} — {action.label}" for action in message.actions if action.key in ("back", "cancel")]
    if message.wants == "location":
        lines.append("  [location] LAT, LON")
    if message.photo:
        lines.append(f"  [photo {message.photo[:12]}…]")
    return "\n".join(lines)


_ATTACHED = re.compile(r"^\[(photo|location)\]\s*(.*)$", re.IGNORECASE)


class ConsoleChannel:
    def __init__(self, service: Service, user_id: str = "local", out: TextIO = sys.stdout, echo: bool = False,
                 files: FileStore | None = None):
        self.service, self.user_id, self.out, self.echo, self.files = service, user_id, out, echo, files

    def event(self, text: str, event_id: str | None = None) -> Inbound:
        event_id = event_id or uuid.uuid4().hex
        attached = _ATTACHED.match(text.strip())
        if attached is None:
            return Inbound(CHANNEL, self.user_id, event_id, text=text)
        kind, rest = attached.group(1).lower(), attached.group(2).strip()
        if kind == "location":
            numbers = re.findall(r"-?\d+(?:\.\d+)?", rest)
            if len(numbers) == 2:
                return Inbound(CHANNEL, self.user_id, event_id, location=Location(float(numbers[0]), float(numbers[1])))
            return Inbound(CHANNEL, self.user_id, event_id, text=text)
        path, _, caption = rest.partition(" ")
        return Inbound(CHANNEL, self.user_id, event_id, text=caption or None, attachment=self._attach(Path(path)))

    def _attach(self, path: Path) -> Attachment:
        """A file as a phone would send it: images are stored (up to the limit), anything else only described."""
        if not path.is_file():
            return Attachment("other")
        size = path.stat().st_size
        if size > MAX_BYTES:
            return Attachment("photo", size=size)
        data = path.read_bytes()
        mime = sniff_image(data)
        if mime is None or self.files is None:
            kind = "video" if path.suffix.lower() in (".mp4", ".mov", ".avi", ".mkv") else "document"
            return Attachment(kind, size=size)
        return Attachment("photo", size=size, mime=mime, stored=self.files.put(data, mime))

    async def push(self, address: str, message: Outbound) -> None:
        """The notifier's sender: a message from the city arrives between the user's own lines."""
        if address == self.user_id:
            print(render(message), end="\n\n", file=self.out)
            self.out.flush()

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

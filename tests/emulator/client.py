"""Drive the Telegram Bot API emulator (tests/emulator/launcher.js) from Python tests.

* ``start_emulator()`` runs the launcher as a subprocess and stops it afterwards.
* ``TelegramUser`` plays one Telegram user chatting with the bot under test.

The bot under test talks to ``Emulator.bot_api_url`` (e.g. python-telegram-bot's
``ApplicationBuilder().base_url(emulator.bot_api_url)``); the user's side uses the launcher's
client routes, which are not part of the Bot API.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import queue
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

REPO_ROOT = Path(__file__).resolve().parents[2]
LAUNCHER = Path(__file__).with_name("launcher.js")

Button = tuple[str, str | None]  # (label, callback_data); callback_data is None for URL buttons etc.


class EmulatorError(RuntimeError):
    """The emulator could not be installed/started, or it refused a user action."""


# ---- installing and running the emulator --------------------------------------------------------

_install_lock = threading.Lock()


def ensure_emulator_installed(root: Path = REPO_ROOT) -> None:
    """Install the pinned npm package from package-lock.json unless node_modules already has it."""
    with _install_lock:
        if (root / "node_modules" / "telegram-test-api" / "package.json").is_file():
            return
        npm = shutil.which("npm")
        if npm is None:
            raise EmulatorError("npm is not on PATH; it is needed to install telegram-test-api")
        done = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"], cwd=root, capture_output=True, text=True
        )
        if done.returncode != 0:
            raise EmulatorError(f"npm ci failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")


@dataclass(frozen=True)
class Emulator:
    """A running launcher. ``bot_api_url`` is the Bot API base URL without the token."""

    port: int
    host: str
    process: subprocess.Popen[bytes]

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def bot_api_url(self) -> str:
        return f"{self.base_url}/bot"

    @property
    def bot_file_url(self) -> str:
        return f"{self.base_url}/file/bot"

    def user(self, token: str, user_id: int = 1001, **kwargs: Any) -> TelegramUser:
        return TelegramUser(self.base_url, token, user_id, **kwargs)


@contextlib.contextmanager
def start_emulator(
    port: int = 0, *, host: str = "127.0.0.1", startup_timeout: float = 15.0
) -> Iterator[Emulator]:
    """Run ``node tests/emulator/launcher.js`` until the block exits.

    ``port=0`` lets the launcher pick a free port (read back from its ``ready <port>`` line), so
    parallel runs cannot collide. The launcher gets its own process group, killed on exit, and
    watches its stdin so it also dies if this Python process is killed outright.
    """
    ensure_emulator_installed()
    node = shutil.which("node")
    if node is None:
        raise EmulatorError("node is not on PATH")
    process = subprocess.Popen(
        [node, str(LAUNCHER), str(port), host, "--watch-stdin"],
        cwd=REPO_ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=None,  # inherited: pytest captures it and shows it when a test fails
        start_new_session=True,
    )
    try:
        yield Emulator(_wait_ready(process, startup_timeout), host, process)
    finally:
        _stop(process)


def _wait_ready(process: subprocess.Popen[bytes], timeout: float) -> int:
    lines: queue.Queue[bytes] = queue.Queue()
    assert process.stdout is not None
    # A thread, because a blocking readline cannot time out; the launcher writes nothing else.
    threading.Thread(target=lambda: lines.put(process.stdout.readline()), daemon=True).start()
    try:
        line = lines.get(timeout=timeout).decode().strip()
    except queue.Empty:
        raise EmulatorError(f"launcher not ready after {timeout}s") from None
    if not line.startswith("ready "):
        raise EmulatorError(f"launcher exited ({process.poll()}) before it was ready: {line!r}")
    return int(line.split()[1])


def _stop(process: subprocess.Popen[bytes]) -> None:
    for sig, grace in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
        if process.poll() is not None:
            break
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(grace)
    for pipe in (process.stdin, process.stdout):
        if pipe is not None:
            pipe.close()


# ---- what the user sees ----------------------------------------------------------------------


@dataclass
class BotMessage:
    """One message the bot sent to the chat, in its current (possibly edited) state."""

    message_id: int
    chat_id: int
    text: str  # text, or caption of media; HTML markup already rendered away; "" if none
    buttons: list[list[Button]]  # inline keyboard rows
    keyboard: list[list[str]]  # reply keyboard rows (tap one with send_text(label))
    edited: bool
    seq: int  # emulator change counter; bigger = sent or edited later
    raw: dict[str, Any] = field(repr=False)
    # The reply keyboard as sent: KeyboardButton objects (a plain string becomes {"text": ...}).
    keyboard_buttons: list[list[dict[str, Any]]] = field(default_factory=list, repr=False)
    removes_keyboard: bool = False  # sent with ReplyKeyboardRemove

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> BotMessage:
        inline = (data.get("reply_markup") or {}).get("inline_keyboard") or []
        return cls(
            message_id=data["message_id"],
            chat_id=data["chat"]["id"],
            text=data.get("text") or data.get("caption") or "",
            buttons=[[(b["text"], b.get("callback_data")) for b in row] for row in inline],
            keyboard=[
                [b if isinstance(b, str) else b["text"] for b in row]
                for row in data.get("reply_keyboard") or []
            ],
            edited="edit_date" in data,
            seq=data.get("seq", 0),
            raw=data,
            keyboard_buttons=[
                [{"text": b} if isinstance(b, str) else b for b in row]
                for row in data.get("reply_keyboard") or []
            ],
            removes_keyboard=bool((data.get("sent_markup") or {}).get("remove_keyboard")),
        )

    @property
    def photo(self) -> dict[str, Any] | None:
        """The largest size of the photo this message shows (sendPhoto), or None."""
        sizes = self.raw.get("photo") or []
        return sizes[-1] if sizes else None

    @property
    def caption(self) -> str | None:
        return self.raw.get("caption")

    @property
    def location_button(self) -> str | None:
        """The label of this message's reply-keyboard button that shares the user's location, if any."""
        for row in self.keyboard_buttons:
            for button in row:
                if button.get("request_location"):
                    return button["text"]
        return None

    @property
    def flat_buttons(self) -> list[Button]:
        return [button for row in self.buttons for button in row]

    def button(self, label: str, *, exact: bool = False) -> Button | None:
        """The first inline button whose label equals (exact) or contains ``label``."""
        for text, data in self.flat_buttons:
            if text == label or (not exact and label in text):
                return text, data
        return None


class TelegramUser:
    """A Telegram user in a private chat (chat_id defaults to user_id) with the bot ``token``."""

    def __init__(
        self,
        base_url: str,
        token: str,
        user_id: int = 1001,
        first_name: str = "Aigerim",
        language_code: str | None = "ru",
        chat_id: int | None = None,
        *,
        username: str | None = None,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.user_id = user_id
        self.first_name = first_name
        self.language_code = language_code
        self.chat_id = user_id if chat_id is None else chat_id
        self.username = username
        self._http = http or httpx.AsyncClient(base_url=self.base_url, timeout=10.0)
        self._owns_http = http is None
        self._seq = 0  # emulator change counter at our last action: wait_for looks past it

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> TelegramUser:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    @property
    def user(self) -> dict[str, Any]:
        """This user as a Telegram ``User`` object."""
        user: dict[str, Any] = {"id": self.user_id, "is_bot": False, "first_name": self.first_name}
        if self.username:
            user["username"] = self.username
        if self.language_code:
            user["language_code"] = self.language_code
        return user

    @property
    def chat(self) -> dict[str, Any]:
        chat: dict[str, Any] = {"id": self.chat_id, "type": "private", "first_name": self.first_name}
        if self.chat_id != self.user_id:
            chat = {"id": self.chat_id, "type": "group", "title": f"chat {self.chat_id}"}
        elif self.username:
            chat["username"] = self.username
        return chat

    async def _call(self, route: str, payload: dict[str, Any], *, action: bool = False) -> Any:
        response = await self._http.post(route, json={"token": self.token, **payload})
        body = response.json()
        if not body.get("ok"):
            raise EmulatorError(f"{route}: {body.get('description') or body}")
        if action:
            self._seq = body["seq"]
        return body["result"]

    # -- acting ------------------------------------------------------------------------------

    async def send_message(self, **fields: Any) -> dict[str, Any]:
        """Send any Message fields (text, location, contact...); returns the Message as sent."""
        payload = {"from": self.user, "chat": self.chat, **fields}
        return await self._call("/sendMessage", payload, action=True)

    async def send_text(self, text: str) -> dict[str, Any]:
        return await self.send_message(text=text)

    async def send_command(self, command: str, args: str = "") -> dict[str, Any]:
        """Send ``/command [args]`` with the ``bot_command`` entity Telegram attaches."""
        name = command if command.startswith("/") else f"/{command}"
        text = f"{name} {args}".rstrip()
        entities = [{"type": "bot_command", "offset": 0, "length": len(name)}]
        payload = {"from": self.user, "chat": self.chat, "text": text, "entities": entities}
        return await self._call("/sendCommand", payload, action=True)

    async def send_location(self, latitude: float, longitude: float, **fields: Any) -> dict[str, Any]:
        """Share a location pin (what a `request_location` button or the attachment menu sends)."""
        return await self.send_message(location={"latitude": latitude, "longitude": longitude}, **fields)

    async def share_location(self, latitude: float, longitude: float) -> dict[str, Any]:
        """Tap the bot's "send my location" reply-keyboard button: fails unless such a button is on screen."""
        shown = await self.reply_keyboard()
        if shown is None or shown.location_button is None:
            raise EmulatorError("no request_location button is on screen")
        return await self.send_location(latitude, longitude)

    async def send_media(
        self, kind: str, data: bytes | int, caption: str | None = None, **fields: Any
    ) -> dict[str, Any]:
        """Send a file: ``kind`` is photo, document, video, animation, audio, voice, video_note or sticker.

        ``data`` is the file's bytes, which the emulator keeps and serves to the bot (getFile, then
        GET /file/bot<token>/<file_path>), or an int: a declared size with no bytes behind it, for
        files a bot must not download. ``fields`` are e.g. mime_type, file_name, width, height.
        Returns the Message as sent (a photo comes in several sizes, the largest last).
        """
        payload: dict[str, Any] = {"from": self.user, "chat": self.chat, "kind": kind, **fields}
        if isinstance(data, int):
            payload["size"] = data
        else:
            payload["data"] = base64.b64encode(bytes(data)).decode()
        if caption is not None:
            payload["caption"] = caption
        return await self._call("/sendMedia", payload, action=True)

    async def send_photo(self, data: bytes | int, caption: str | None = None, **fields: Any) -> dict[str, Any]:
        return await self.send_media("photo", data, caption, **fields)

    async def send_document(
        self,
        data: bytes | int,
        caption: str | None = None,
        *,
        mime_type: str = "application/octet-stream",
        file_name: str = "file",
        **fields: Any,
    ) -> dict[str, Any]:
        return await self.send_media("document", data, caption, mime_type=mime_type, file_name=file_name, **fields)

    async def send_video(self, data: bytes | int, caption: str | None = None, **fields: Any) -> dict[str, Any]:
        return await self.send_media("video", data, caption, **fields)

    async def tap(
        self, callback_data: str, message: BotMessage | int | None = None
    ) -> dict[str, Any]:
        """Tap the inline button carrying ``callback_data``.

        On ``message`` (a BotMessage or message_id) if given, else on the newest bot message that
        has such a button. Returns the CallbackQuery as delivered to the bot (its ``id`` is what the
        bot must answer). The emulator refuses buttons the message does not (or no longer) show.
        """
        if message is None:
            found = [
                m
                for m in await self.bot_messages()
                if any(data == callback_data for _, data in m.flat_buttons)
            ]
            if not found:
                raise EmulatorError(f"no bot message has a button with callback_data {callback_data!r}")
            message = found[-1]
        message_id = message.message_id if isinstance(message, BotMessage) else message
        payload = {"from": self.user, "chat_id": self.chat_id, "message_id": message_id, "data": callback_data}
        return await self._call("/sendCallback", payload, action=True)

    async def tap_button(
        self, label: str, message: BotMessage | int | None = None, *, exact: bool = False
    ) -> dict[str, Any]:
        """Tap the inline button whose label matches ``label`` (see ``find_button``)."""
        found, (_, data) = await self.find_button(label, message, exact=exact)
        if data is None:
            raise EmulatorError(f"button {label!r} has no callback_data (URL or web-app button?)")
        return await self.tap(data, found)

    async def vote(self, message: BotMessage | int, option_ids: list[int]) -> dict[str, Any]:
        """Answer the bot's poll in ``message`` (an empty list retracts the vote)."""
        message_id = message.message_id if isinstance(message, BotMessage) else message
        payload = {"from": self.user, "chat_id": self.chat_id, "message_id": message_id, "option_ids": option_ids}
        return await self._call("/sendPollAnswer", payload, action=True)

    # -- looking -----------------------------------------------------------------------------

    async def bot_messages(self) -> list[BotMessage]:
        """Every message the bot sent to this chat, as it looks now, oldest first."""
        result = await self._call("/botMessages", {"chat_id": self.chat_id})
        return [BotMessage.from_api(item) for item in result]

    async def bot_message_count(self) -> int:
        """Messages the bot has sent to every chat, in all."""
        return await self._call("/botMessageCount", {})

    async def last_bot_message(self) -> BotMessage | None:
        messages = await self.bot_messages()
        return messages[-1] if messages else None

    async def find_button(
        self, label: str, message: BotMessage | int | None = None, *, exact: bool = False
    ) -> tuple[BotMessage, Button]:
        """The button labelled ``label`` in ``message``, or in the newest bot message having one."""
        messages = await self.bot_messages()
        if message is not None:
            wanted = message.message_id if isinstance(message, BotMessage) else message
            messages = [m for m in messages if m.message_id == wanted]
        for candidate in reversed(messages):
            button = candidate.button(label, exact=exact)
            if button is not None:
                return candidate, button
        labels = [m.flat_buttons for m in messages if m.buttons]
        raise EmulatorError(f"no button labelled {label!r}; buttons on screen: {labels}")

    async def wait_for(
        self,
        predicate: Callable[[BotMessage], bool] | None = None,
        timeout: float = 10.0,
        *,
        fresh: bool = True,
    ) -> BotMessage:
        """Wait until a bot message satisfies ``predicate`` and return the newest that does.

        With ``fresh`` (the default) only messages sent or edited after this user's last action
        count, so an old reply cannot satisfy a wait meant for the next one.
        """
        deadline = time.monotonic() + timeout
        while True:
            messages = await self.bot_messages()
            for message in sorted(messages, key=lambda m: m.seq, reverse=True):
                if fresh and message.seq <= self._seq:
                    continue
                if predicate is None or predicate(message):
                    return message
            if time.monotonic() >= deadline:
                shown = [(m.text, m.flat_buttons) for m in messages[-5:]]
                raise AssertionError(f"no matching bot message within {timeout}s; last ones: {shown}")
            await asyncio.sleep(0.05)

    async def wait_for_text(self, fragment: str, timeout: float = 10.0) -> BotMessage:
        return await self.wait_for(lambda m: fragment in m.text, timeout)

    async def reply_keyboard(self) -> BotMessage | None:
        """The message whose reply keyboard is on screen now (the newest one that sent a keyboard),
        or None when no keyboard was sent or the newest change removed it."""
        for message in reversed(await self.bot_messages()):
            if message.removes_keyboard:
                return None
            if message.keyboard_buttons:
                return message
        return None

    async def file_requests(self) -> list[dict[str, Any]]:
        """Every getFile call and file download of the bot (all chats), oldest first: dicts with
        method ("getFile" or "download"), file_id and file_path."""
        return await self._call("/fileRequests", {})

    async def file_bytes(self, file_id: str) -> bytes | None:
        """The bytes of a file by its id: one the bot uploaded (sendPhoto) or one a user sent."""
        encoded = await self._call("/fileBytes", {"file_id": file_id})
        return None if encoded is None else base64.b64decode(encoded)

    async def callback_queries(self) -> list[dict[str, Any]]:
        """This chat's button taps, each with ``answer`` (None until the bot answered it)."""
        result = await self._call("/callbackQueries", {})
        return [query for query in result if query["chat_id"] == self.chat_id]

    async def unanswered_callbacks(self) -> list[dict[str, Any]]:
        return [query for query in await self.callback_queries() if query["answer"] is None]

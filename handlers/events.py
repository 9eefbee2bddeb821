"""The normalised events every channel adapter speaks: one inbound shape, one outbound shape.

Adapters (console, Telegram, WhatsApp) translate their own updates into `Inbound` and render `Outbound`;
the conversations never see a channel library.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Tap:
    """A tapped button. `prompt` and `token` say which asking it belongs to, so stale or forged taps are caught."""

    prompt: str
    token: str
    key: str


@dataclass(frozen=True)
class Attachment:
    """A file the user sent. The adapter stores acceptable images in the file store before handling (`stored` is
    the key); anything else arrives described only, so the conversation can say why it was not taken."""

    kind: str  # photo | image (an image sent as a document) | video | audio | document | sticker | other
    size: int | None = None  # bytes, as the channel reports it
    mime: str | None = None
    stored: str | None = None


@dataclass(frozen=True)
class Location:
    latitude: float
    longitude: float


@dataclass(frozen=True)
class Inbound:
    channel: str
    user_id: str
    event_id: str  # unique per channel; a redelivered event carries the same id
    text: str | None = None
    tap: Tap | None = None
    language_hint: str | None = None  # e.g. Telegram's language_code; only a default, the user confirms
    attachment: Attachment | None = None
    location: Location | None = None

    @property
    def command(self) -> str | None:
        """`/start@PikirBot extra` -> `start`; None when the text is not a command."""
        if not self.text or not self.text.startswith("/"):
            return None
        word = self.text[1:].split(maxsplit=1)[0] if len(self.text) > 1 else ""
        return word.split("@", 1)[0].lower()


@dataclass(frozen=True)
class Choice:
    key: str
    label: str
    short: str | None = None  # a compact label for a button row (the Likert digits)
    picked: bool = False  # shown as selected: multi-select picks, the suggested language, a previous answer


# What an outbound item is: a new message; the message the tap came from, edited in place; or a short notice
# (Telegram shows it as the callback answer, the console prints it as a line).
MESSAGE, EDIT, NOTICE = "message", "edit", "notice"


@dataclass(frozen=True)
class Outbound:
    text: str
    choices: tuple[Choice, ...] = ()  # the answers, numbered 1.. in text channels
    actions: tuple[Choice, ...] = ()  # navigation (Back, Done), never numbered
    prompt: str | None = None  # what the buttons answer: a question id or a menu prompt
    token: str = ""
    layout: str = "list"  # list | scale (one row, legend in the text) | multi (toggles + Done)
    kind: str = MESSAGE
    wants: str | None = None  # "location": channels that can offer a share-location button do so
    photo: str | None = None  # a file-store key to show with the text (the summary of a report)


@dataclass
class Reply:
    """What handling one inbound event produced: the next state, what to send, and side effects to persist
    in the same transaction (plain names below, or records such as a filed complaint)."""

    session: object | None  # None: nothing of this user is kept (declined consent, forgotten)
    messages: list[Outbound] = field(default_factory=list)
    effects: list[object] = field(default_factory=list)


# Effects the storage layer carries out in the same transaction as the state change.
FORGET = "forget"  # delete everything kept about the respondent
COUNT_DECLINE = "count:consent_declined"  # the only trace a declined consent leaves

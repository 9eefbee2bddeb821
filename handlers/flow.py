"""What the side conversations (a complaint, an idea, browsing ideas) share: asking one step at a time with
buttons that expire, reading a typed number or label as a tap, Back and Cancel, and judging a photo.

A flow keeps its input in `session.draft` and its place in `session.step`; every prompt bumps the session's
token, so a tap on an older message is recognised and refused without touching the draft.
"""
from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Callable

from handlers.deployment import Deployment
from handlers.events import NOTICE, Attachment, Choice, Inbound, Location, Outbound, Reply
from handlers.i18n import N_, gettext_for
from handlers.session import Session

IMAGE_KINDS = ("photo", "image")
MAX_PHOTO_BYTES = 10 * 1024 * 1024
MIN_TEXT, MAX_TEXT = 10, 2000  # a description: complaints and ideas alike
_NUMBER = re.compile(r"^\s*(\d{1,3})\s*$")
BACK, CANCEL = "back", "cancel"
SUMMARY, EDIT = "summary", "edit"  # the steps every draft ends with: check it, or pick a field to change
USE_BUTTONS = N_("Please answer with the number of an option, from 1 to {count}.")


def pick(choices: tuple[Choice, ...], text: str) -> str | None:
    """The key of the option a typed answer names: its number (1-based) or its label, any case."""
    match = _NUMBER.match(text or "")
    if match and 1 <= int(match.group(1)) <= len(choices):
        return choices[int(match.group(1)) - 1].key
    wanted = (text or "").strip().casefold()
    return next((c.key for c in choices if wanted and c.label.casefold() == wanted), None)


class Flow:
    name: str = ""

    order: tuple[str, ...] = ()  # the steps of a draft, before its summary; a new draft starts at the first

    def __init__(self, deployment: Deployment, records=None, default_language: str = "ru",
                 clock: Callable[[], datetime] | None = None):
        self.deployment = deployment
        self.records = records  # the flow's read port on storage
        self.default_language = default_language
        self.clock = clock or (lambda: datetime.now(timezone.utc))

    async def start(self, s: Session, citizen: str) -> list[Outbound]:
        """The flow's command: the open step again, an unfinished draft resumed, or a new draft."""
        if s.flow == self.name:
            s.asked += 1
            return self.render(s)
        if self.resume(s):
            return self.render(s)
        if problem := await self.refusal(s, citizen):
            return [Outbound(problem)]
        s.draft = {}
        return self.ask(s, self.order[0])

    async def review(self, s: Session, key: str, submit) -> list[Outbound] | None:
        """Send / Edit / Cancel on a draft's summary, and the field picked to edit (its step's name); None when
        the tap is neither. `submit()` files the draft."""
        if s.step == SUMMARY and key in ("confirm", "edit", "cancel"):
            if key == "cancel":
                return self.cancel(s)
            if key == "edit":
                s.draft["editing"] = True
                return self.ask(s, EDIT)
            return await submit()
        if s.step == EDIT and key in self.order:
            return self.ask(s, key)
        return None

    async def refusal(self, s: Session, citizen: str) -> str | None:
        """Why this citizen may not start a new draft now (a limit, a closed cycle); None when they may."""
        return None

    # -- to be provided by each flow ----------------------------------------------------------------------------
    def render(self, s: Session) -> list[Outbound]:
        raise NotImplementedError

    async def tapped(self, s: Session, key: str, citizen: str, reply: Reply) -> list[Outbound]:
        raise NotImplementedError

    async def typed(self, s: Session, text: str, citizen: str, reply: Reply) -> list[Outbound]:
        """Free text at a step that takes text; by default the step takes only its buttons."""
        return self.use_buttons(s)

    async def sent_file(self, s: Session, attachment: Attachment, caption: str, citizen: str,
                        reply: Reply) -> list[Outbound]:
        return self.use_buttons(s)

    async def sent_location(self, s: Session, location: Location, citizen: str, reply: Reply) -> list[Outbound]:
        return self.use_buttons(s)

    def previous(self, s: Session) -> str | None:
        """The step Back returns to; None leaves the flow."""
        if s.step == EDIT:
            return SUMMARY
        if s.step == SUMMARY and self.order:
            return self.order[-1]
        if s.step in self.order[1:]:
            return self.order[self.order.index(s.step) - 1]
        return None

    # -- shared machinery ---------------------------------------------------------------------------------------
    async def handle(self, s: Session, event: Inbound, citizen: str, reply: Reply) -> list[Outbound]:
        if event.tap is not None:
            if event.tap.key == CANCEL:
                return self.cancel(s)
            if event.tap.key == BACK:
                return self.back(s)
            return await self.tapped(s, event.tap.key, citizen, reply)
        if event.location is not None:
            return await self.sent_location(s, event.location, citizen, reply)
        if event.attachment is not None:
            return await self.sent_file(s, event.attachment, event.text or "", citizen, reply)
        text = event.text or ""
        choices = self.render(s)[-1].choices
        key = pick(choices, text) if choices else None
        if key is not None:
            return await self.tapped(s, key, citizen, reply)
        return await self.typed(s, text, citizen, reply)

    def gettext(self, s: Session):
        return gettext_for(s.language or self.default_language)

    def ask(self, s: Session, step: str) -> list[Outbound]:
        s.flow, s.step = self.name, step
        s.asked += 1
        return self.render(s)

    def back(self, s: Session) -> list[Outbound]:
        step = self.previous(s)
        if step is None:
            return self.cancel(s)
        return self.ask(s, step)

    def cancel(self, s: Session) -> list[Outbound]:
        self.leave(s)
        _ = self.gettext(s)
        return [Outbound(_("Cancelled. Nothing was sent."))]

    def leave(self, s: Session) -> None:
        s.flow, s.step, s.draft = None, None, {}
        s.asked += 1

    def pause(self, s: Session) -> None:
        """Steps aside (the menu, the survey) keeping the draft, to be resumed by the flow's command."""
        s.draft["_flow"], s.draft["_step"] = s.flow, s.step
        s.flow = s.step = None
        s.asked += 1

    def resume(self, s: Session) -> bool:
        if s.draft.get("_flow") != self.name or not s.draft.get("_step"):
            return False
        s.flow, s.step = self.name, s.draft.pop("_step")
        s.draft.pop("_flow")
        s.asked += 1
        return True

    def actions(self, s: Session, back: bool = True) -> tuple[Choice, ...]:
        _ = self.gettext(s)
        return ((Choice(BACK, _("Back")),) if back else ()) + (Choice(CANCEL, _("Cancel")),)

    def prompt(self, s: Session, text: str, choices=(), back: bool = True, **extra) -> Outbound:
        return Outbound(text, tuple(choices), self.actions(s, back), prompt=s.prompt, token=s.token, **extra)

    def use_buttons(self, s: Session) -> list[Outbound]:
        count = len(self.render(s)[-1].choices)
        _ = self.gettext(s)
        problem = _(USE_BUTTONS).format(count=count) if count else _("Please use the buttons below.")
        return [Outbound(problem, kind=NOTICE), *self.render(s)]

    def notice(self, s: Session, text: str) -> list[Outbound]:
        """A problem with what was sent, then the same question again: nothing already given is lost."""
        return [Outbound(text, kind=NOTICE), *self.render(s)]

    def description_problem(self, s: Session, text: str) -> str | None:
        """Why a description is not taken (too short to act on, too long to read on a phone); None when it is."""
        _ = self.gettext(s)
        if len(text) < MIN_TEXT:
            return _("The description is too short: please write at least {low} characters.").format(low=MIN_TEXT)
        if len(text) > MAX_TEXT:
            return _("The description is too long ({count} characters). Please shorten it to {high} characters and "
                     "send it again.").format(count=len(text), high=MAX_TEXT)
        return None

    def photo_problem(self, s: Session, attachment: Attachment) -> str | None:
        """Why a file cannot be the photo, in the citizen's language; None when it is a stored image."""
        _ = self.gettext(s)
        if attachment.kind in IMAGE_KINDS and attachment.size and attachment.size > MAX_PHOTO_BYTES:
            megabytes = f"{attachment.size / 1024 / 1024:.1f}".replace(".", ",")
            return _("The photo is too large ({size} MB). The limit is 10 MB: please send a smaller photo.").format(
                size=megabytes)
        if attachment.kind == "video":
            return _("That is a video. Please send a photo instead.")
        if attachment.kind not in IMAGE_KINDS or not attachment.stored:
            return _("Only a photo (JPEG or PNG) can be attached here.")
        return None

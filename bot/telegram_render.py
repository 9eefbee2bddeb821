"""What Pikir's messages become in the Bot API: inline keyboards as plain JSON, the location request as a reply
keyboard, photos with captions, and the split into two messages when one needs two markups (see `plan`)."""
from __future__ import annotations

from dataclasses import dataclass

from handlers.events import EDIT, Outbound
from handlers.i18n import N_

CALLBACK_LIMIT = 64  # bytes, Telegram's limit for callback_data
CAPTION_LIMIT = 1024  # characters of a photo's caption
SEND_LOCATION = N_("Send my location")  # the reply-keyboard button that shares the user's location
OTHER_OPTIONS = N_("Other options:")  # heads the inline buttons when they must go in a message of their own
REMOVE_KEYBOARD = {"remove_keyboard": True}


def callback_data(message: Outbound, key: str) -> str:
    return f"{message.prompt}|{message.token}|{key}"[:CALLBACK_LIMIT]


def text_of(message: Outbound) -> str:
    if message.layout == "scale":  # the legend lives in the text; the buttons carry only the digits
        legend = "\n".join(f"{c.short} — {c.label}" for c in message.choices)
        return f"{message.text}\n\n{legend}"
    return message.text


def keyboard(message: Outbound) -> dict | None:
    """The inline keyboard as the Bot API's JSON. Plain dicts, not PTB objects: on the hot path, building and
    re-parsing objects for every reply cost more CPU than the rest of the conversation."""
    if not message.choices and not message.actions:
        return None

    def button(choice, label):
        return {"text": label, "callback_data": callback_data(message, choice.key)}

    if message.layout == "scale":
        rows = [[button(c, c.short or c.label) for c in message.choices]]
    else:
        # ✓ marks multi-select picks, the suggested language, and the earlier answer when Back re-asks.
        rows = [[button(c, ("✓ " if c.picked else "") + c.label)] for c in message.choices]
    if message.actions:
        rows.append([button(a, a.label) for a in message.actions])
    return {"inline_keyboard": rows}


def request(chat_id: int, message: Outbound, **extra) -> dict:
    fields = {"chat_id": chat_id, "text": text_of(message), **extra}
    markup = keyboard(message)
    if markup is not None:
        fields["reply_markup"] = markup
    return fields


def location_keyboard(_) -> dict:
    # one_time_keyboard: the client folds it away once tapped; it is removed for good with the next message.
    return {"keyboard": [[{"text": "📍 " + _(SEND_LOCATION), "request_location": True}]],
            "resize_keyboard": True, "one_time_keyboard": True}


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2  # how Telegram counts a caption's characters


@dataclass
class Call:
    """One Bot API call to make. `photo` is a file-store key; the sender turns it into an upload or a file_id."""

    method: str
    fields: dict
    photo: str | None = None


def with_photo(chat_id: int, text: str, photo: str | None, markup: dict | None) -> list[Call]:
    """A message, with its photo if it has one: the text as the caption when it fits, else the photo first."""
    extra = {"reply_markup": markup} if markup is not None else {}
    if photo is None:
        return [Call("sendMessage", {"chat_id": chat_id, "text": text, **extra})]
    if utf16_len(text) <= CAPTION_LIMIT:
        return [Call("sendPhoto", {"chat_id": chat_id, "caption": text, **extra}, photo)]
    return [Call("sendPhoto", {"chat_id": chat_id}, photo),
            Call("sendMessage", {"chat_id": chat_id, "text": text, **extra})]


def split(text: str, _) -> tuple[str, str]:
    """A text whose message needs two markups: all but its last paragraph, and the last paragraph (the question
    the buttons answer); a one-paragraph text keeps it whole and its buttons go under a short heading."""
    head, separator, tail = text.rpartition("\n\n")
    if separator and head.strip() and tail.strip():
        return head, tail
    return text, _(OTHER_OPTIONS)


def plan(chat_id: int, messages: list[Outbound], keyboard_shown: bool, _,
         edit_id: int | None = None) -> tuple[list[Call], bool]:
    """The Bot API calls that show `messages`, and whether a location keyboard is left on screen.

    A Telegram message carries one reply_markup: an inline keyboard, or a reply keyboard (the "share my
    location" button), or the removal of a reply keyboard. When one Outbound needs two of them (a question that
    wants a location and has Back/Cancel, or the first message after a location question, which must take that
    keyboard down, and has buttons), it becomes two messages: the text with the reply markup, then its last
    paragraph (or a short "Other options:") with the inline buttons. That order was chosen over the inline
    keyboard first because the reply keyboard belongs to the message that asks for it, and the inline buttons
    then sit at the bottom of the chat, under the newest message, where they are tapped; the text is never
    repeated. The summary of a report splits naturally: the details (with the photo), then "Send it?" [buttons].
    Only an inline keyboard can be edited in place, so an edit never carries a reply markup; a removal due then
    waits for the next message that can carry it, and a multi-select (edited on every tap) is never split.
    """
    calls: list[Call] = []
    for index, message in enumerate(messages):
        wants = message.wants == "location"
        inline, text = keyboard(message), text_of(message)
        if message.kind == EDIT and edit_id is not None and not wants and not message.photo:
            calls.append(Call("editMessageText", request(chat_id, message, message_id=edit_id)))
            continue
        # An edit that wants a location or shows a photo is sent as a new message: edits cannot carry either.
        asked_again = any(m.wants == "location" for m in messages[index + 1:])
        markup = location_keyboard(_) if wants else REMOVE_KEYBOARD if keyboard_shown and not asked_again else None
        if markup is REMOVE_KEYBOARD and inline is not None and message.layout == "multi":
            markup = None
        if markup is None or inline is None:
            calls += with_photo(chat_id, text, message.photo, markup if markup is not None else inline)
        else:
            head, tail = split(text, _)
            calls += with_photo(chat_id, head, message.photo, markup)
            calls.append(Call("sendMessage", {"chat_id": chat_id, "text": tail, "reply_markup": inline}))
        if wants:
            keyboard_shown = True
        elif markup is REMOVE_KEYBOARD:
            keyboard_shown = False
    return calls, keyboard_shown

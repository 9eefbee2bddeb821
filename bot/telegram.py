"""The Telegram channel on python-telegram-bot v22: updates in, inline keyboards out.

Buttons carry `prompt|token|key` as callback data, so the conversation can tell a tap on the current question
from a stale, double or forged one. Every callback query is answered, so the client's spinner stops.

Files: a photo (the largest size Telegram offers) or an image sent as a document is downloaded and kept in the
file store before the conversation sees it, if Telegram reports at most 10 MB and the bytes really are an image;
anything else reaches the conversation described only (kind, size), so it can say why it was not taken.
A question that wants a location gets a reply keyboard with one "share my location" button, and a message with
a photo is sent with sendPhoto (bot/telegram_render.py turns messages into Bot API calls).
"""
from __future__ import annotations

import asyncio
import logging
import warnings
from collections import OrderedDict
from dataclasses import replace

from telegram import BotCommand, InputFile, Message, Update
from telegram.error import BadRequest, TelegramError
from telegram.ext import Application, ApplicationBuilder, ContextTypes, TypeHandler
from telegram.warnings import PTBUserWarning

from bot.service import Service, _UserLocks
from bot.settings import Settings
from bot.telegram_render import Call, plan
from handlers.events import NOTICE, Attachment, Inbound, Location, Outbound, Tap
from handlers.i18n import USER_LANGUAGES, N_, gettext_for
from storage.files import MAX_BYTES, FileStore, sniff_image
from storage.pseudonyms import pseudonym

log = logging.getLogger(__name__)
# Sending through do_api_request is deliberate (see keyboard()); PTB would otherwise warn on every process start.
warnings.filterwarnings("ignore", message=r"Please use 'Bot\.\w+' instead of", category=PTBUserWarning)
CHANNEL = "telegram"
DOWNLOAD_TIMEOUT = 60  # seconds to read a photo of up to 10 MB; PTB's default (5 s) is for small API answers

COMMANDS = [
    ("start", N_("Begin or continue the survey")),
    ("complaint", N_("Report a problem")),
    ("status", N_("My reports")),
    ("idea", N_("Propose an idea")),
    ("ideas", N_("Support ideas")),
    ("menu", N_("Everything the bot can do")),
    ("language", N_("Change the language")),
    ("back", N_("Return to the previous question")),
    ("forget", N_("Delete your answers")),
    ("help", N_("List of commands")),
]


def parse_callback(data: str | None) -> Tap:
    parts = (data or "").split("|", 2)
    return Tap(*parts) if len(parts) == 3 else Tap("", "", "")  # unparseable: treated as a stale button


def describe(message: Message) -> tuple[Attachment | None, str | None]:
    """What a message carries besides text, and the file_id to download when it may be a photo to keep."""
    if message.photo:  # Telegram's sizes of one photo, smallest first: the largest is the one worth keeping
        largest = max(message.photo, key=lambda p: (p.width * p.height, p.file_size or 0))
        return Attachment("photo", largest.file_size, "image/jpeg"), largest.file_id
    if message.animation:  # before document: Telegram sets both for a GIF/MP4 animation
        return Attachment("video", message.animation.file_size, message.animation.mime_type), None
    if message.document:
        document, mime = message.document, (message.document.mime_type or "").lower()
        if mime.startswith("image/"):  # an uncompressed photo ("send as file"); the bytes decide, not this
            return Attachment("image", document.file_size, mime), document.file_id
        return Attachment("document", document.file_size, document.mime_type), None
    for kind, media in (("video", message.video), ("video", message.video_note), ("audio", message.audio),
                        ("audio", message.voice), ("sticker", message.sticker)):
        if media is not None:
            return Attachment(kind, media.file_size, getattr(media, "mime_type", None)), None
    if message.text is None and message.location is None and (message.contact or message.poll or message.dice):
        return Attachment("other"), None
    return None, None


def inbound(update: Update) -> Inbound | None:
    """The update as the conversation sees it; a file is only described here (`TelegramChannel.fetch` keeps it)."""
    user = update.effective_user
    if user is None or update.effective_chat is None:
        return None  # channel posts, polls and the like: nothing a respondent said
    hint = (user.language_code or "").split("-")[0].lower() or None
    base = dict(channel=CHANNEL, user_id=str(user.id), event_id=str(update.update_id), language_hint=hint)
    if update.callback_query is not None:
        return Inbound(**base, tap=parse_callback(update.callback_query.data))
    message = update.effective_message
    if message is None:
        return Inbound(**base, text="")
    if message.location is not None:  # a shared pin (also a venue, or the start of a live location)
        if update.edited_message is not None:
            return None  # a live location moving: Telegram edits the pin every few seconds; not a new answer
        return Inbound(**base, text=message.caption,
                       location=Location(message.location.latitude, message.location.longitude))
    attachment, _file_id = describe(message)
    if attachment is not None:  # a caption travels as text
        return Inbound(**base, text=message.caption, attachment=attachment)
    # Anything else without text (a service message) reaches the survey as empty text, which it answers with a
    # clear "please choose" in the user's language.
    return Inbound(**base, text=message.text or message.caption or "")


class _Bounded(OrderedDict):
    """A small LRU map: per-chat state this process remembers, without growing for ever."""

    def __init__(self, limit: int):
        super().__init__()
        self.limit = limit

    def put(self, key, value) -> None:
        self[key] = value
        self.move_to_end(key)
        while len(self) > self.limit:
            self.popitem(last=False)


class TelegramChannel:
    def __init__(self, service: Service, files: FileStore | None = None, default_language: str = "ru"):
        self.service, self.files, self.default_language = service, files, default_language
        # Chats where this process showed a "share my location" keyboard that is still up. In memory: after a
        # restart (or on another worker) a leftover keyboard stays until the next location question replaces it;
        # a location sent with it then is answered by the conversation like any pin sent at the wrong step.
        self._keyboards: _Bounded = _Bounded(100_000)
        self._photo_ids: _Bounded = _Bounded(10_000)  # file-store key -> Telegram file_id, so a photo uploads once
        # A user's updates in order, downloads included: without this a text sent right after a photo could reach
        # the conversation while the photo is still downloading. Taken before anything else awaits, as updates
        # are started in the order they arrive (the service's own lock relies on the same).
        self._users = _UserLocks()

    async def on_update(self, update: Update, bot) -> None:
        """Handle one update completely: commit through the service, then send. Raises if the commit failed,
        so a webhook caller can answer Telegram with an error and get the update again."""
        event = inbound(update)
        if event is None:
            return
        async with self._users.hold(event.user_id):
            await self._handle(update, event, bot)

    async def _handle(self, update: Update, event: Inbound, bot) -> None:
        if event.attachment is not None:
            event = replace(event, attachment=await self.fetch(bot, update.effective_message, event.attachment))
        messages = await self.service.handle(event)
        query = update.callback_query
        notices = [m.text for m in messages if m.kind == NOTICE]
        if query is not None:
            try:
                await query.answer(" ".join(notices)[:200] or None)
            except TelegramError as error:  # an old query (>15 min) cannot be answered; the rest still matters
                log.info("callback answer failed: %s", error)
            messages = [m for m in messages if m.kind != NOTICE]
        edit_id = query.message.message_id if query is not None and query.message is not None else None
        await self.send(bot, update.effective_chat.id, messages, edit_id, event)

    async def fetch(self, bot, message: Message, attachment: Attachment) -> Attachment:
        """Keeps a photo in the file store (`stored`): only one Telegram says is at most 10 MB, and only if its
        bytes are an image. Raises on a network failure, so the update is handled again later."""
        _, file_id = describe(message)
        if file_id is None or self.files is None:
            return attachment
        if attachment.size is not None and attachment.size > MAX_BYTES:
            return attachment  # never downloaded: the conversation answers "too large"
        try:
            file = await bot.get_file(file_id)
        except BadRequest as error:  # e.g. "file is too big" (over 20 MB) when the message did not say its size
            log.info("getFile refused: %s", error)
            return attachment
        if file.file_size is not None and file.file_size > MAX_BYTES:
            return replace(attachment, size=file.file_size)
        data = bytes(await file.download_as_bytearray(read_timeout=DOWNLOAD_TIMEOUT))
        mime = sniff_image(data)
        if len(data) > MAX_BYTES or mime is None:  # a claimed image that is not one is described, not kept
            return replace(attachment, size=len(data), mime=mime)
        key = await asyncio.to_thread(self.files.put, data, mime)  # up to 10 MB to disk: off the event loop
        return replace(attachment, size=len(data), mime=mime, stored=key)

    async def language(self, event: Inbound | None, chat_id: int) -> str:
        """The language the citizen chose, for the labels this adapter adds (the location button)."""
        user_id = event.user_id if event is not None else str(chat_id)
        loaded = await self.service.repository.load(pseudonym(self.service.secret, CHANNEL, user_id))
        session = loaded.session
        return getattr(session, "language", None) or (event and event.language_hint) or self.default_language

    async def send(self, bot, chat_id: int, messages: list[Outbound], edit_id: int | None = None,
                   event: Inbound | None = None) -> None:
        shown = chat_id in self._keyboards
        language = None
        if shown or any(m.wants == "location" for m in messages):  # labels needed: a lookup, rarely
            language = await self.language(event, chat_id)
        calls, shown = plan(chat_id, messages, shown, gettext_for(language), edit_id)
        for call in calls:
            await self.call(bot, call)
        if shown:  # once sent: a failed send leaves what the chat shows, and so what we remember, as it was
            self._keyboards.put(chat_id, True)
        else:
            self._keyboards.pop(chat_id, None)

    async def call(self, bot, call: Call) -> None:
        # do_api_request without a return type: the echoed Message is not parsed into objects we never read.
        if call.photo is not None:
            await self.send_photo(bot, call)
            return
        try:
            await bot.do_api_request(call.method, api_kwargs=call.fields)
        except BadRequest as error:
            if call.method != "editMessageText" or "not modified" not in str(error).lower():
                raise

    async def send_photo(self, bot, call: Call) -> None:
        """sendPhoto by file_id once uploaded; a photo Telegram will not take as a photo (HEIC, odd sizes) goes
        as a document, and one missing from the file store leaves the text alone."""
        known = self._photo_ids.get(call.photo)
        if known is not None:
            try:
                await bot.do_api_request("sendPhoto", api_kwargs={**call.fields, "photo": known})
                return
            except BadRequest:
                self._photo_ids.pop(call.photo, None)  # forgotten by Telegram: upload again
        try:
            data = await asyncio.to_thread(self.files.read, call.photo) if self.files else None
        except (OSError, ValueError):
            data = None
        if data is None:
            log.warning("photo %s is not in the file store; sending the text only", call.photo)
            if "caption" in call.fields:
                fields = {k: v for k, v in call.fields.items() if k != "caption"}
                await bot.do_api_request("sendMessage", api_kwargs={**fields, "text": call.fields["caption"]})
            return
        upload = InputFile(data, filename=call.photo)
        try:
            sent = await bot.do_api_request("sendPhoto", api_kwargs={**call.fields, "photo": upload})
        except BadRequest as error:
            log.info("sendPhoto refused (%s); sending the photo as a document", error)
            upload = InputFile(data, filename=call.photo)
            await bot.do_api_request("sendDocument", api_kwargs={**call.fields, "document": upload})
            return
        sizes = sent.get("photo") if isinstance(sent, dict) else None
        if sizes:
            self._photo_ids.put(call.photo, sizes[-1]["file_id"])

    def sender(self, bot):
        """The notifier's sender for this channel: a push message to chat `address` (the user id)."""

        async def send(address: str, message: Outbound) -> None:
            await self.send(bot, int(address), [message])

        return send

    async def set_commands(self, bot) -> None:
        """The command menu in each language; a Bot API server without setMyCommands is logged, not fatal."""
        try:
            for language in USER_LANGUAGES:
                _ = gettext_for(language)
                commands = [BotCommand(name, _(description)) for name, description in COMMANDS]
                await bot.set_my_commands(commands, language_code=language)
            _ = gettext_for("ru")
            await bot.set_my_commands([BotCommand(name, _(description)) for name, description in COMMANDS])
        except TelegramError as error:
            log.warning("setMyCommands failed (%s); the bot works without the command menu", error)


def builder(settings: Settings) -> ApplicationBuilder:
    built = ApplicationBuilder().token(settings.telegram_token)
    if settings.telegram_api_url:
        root = settings.telegram_api_url.rstrip("/")
        built = built.base_url(f"{root}/bot").base_file_url(f"{root}/file/bot")
    # A handful of updates in flight was fastest; per-user order is kept by the service's per-user lock.
    return built.concurrent_updates(4)


SORRY = N_("Sorry, something went wrong on our side and your last message was not saved. Please send it again.")


def attach(application: Application, channel: TelegramChannel) -> None:
    """Polling mode. A polled update cannot be fetched again once confirmed, so when handling fails the citizen
    is asked to resend; nothing of theirs was half-saved, as the commit is all or nothing."""

    async def handle(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await channel.on_update(update, context.bot)

    async def failed(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        log.error("handling update failed", exc_info=context.error)
        if isinstance(update, Update) and update.effective_chat is not None:
            event = inbound(update)
            try:
                await context.bot.send_message(update.effective_chat.id, gettext_for(event and event.language_hint)(SORRY))
            except TelegramError:
                log.warning("could not tell the user about the failure either")

    application.add_handler(TypeHandler(Update, handle))
    application.add_error_handler(failed)


async def connect(application: Application, app) -> TelegramChannel:
    """Polling mode, on an initialised `application`: handle updates, set the command menu, and push status
    changes (the notifier) through this bot. `app` is bot.service.App."""
    channel = TelegramChannel(app.service, app.files, app.settings.default_language)
    attach(application, channel)
    await channel.set_commands(application.bot)
    app.notifier.add(CHANNEL, channel.sender(application.bot))
    app.notifier.start()
    return channel


def polling_application(settings: Settings, start_app) -> Application:
    """`start_app()` builds the database-backed app inside PTB's event loop; returns (App, TelegramChannel)."""
    state = {}

    async def post_init(application: Application) -> None:
        state["app"] = app = await start_app()
        await connect(application, app)

    async def post_shutdown(_application: Application) -> None:
        if "app" in state:
            await state["app"].close()

    return builder(settings).post_init(post_init).post_shutdown(post_shutdown).build()

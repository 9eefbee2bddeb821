"""The Telegram channel on python-telegram-bot v22: updates in, inline keyboards out.

Buttons carry `prompt|token|key` as callback data, so the conversation can tell a tap on the current question
from a stale, double or forged one. Every callback query is answered, so the client's spinner stops.
"""
from __future__ import annotations

import logging
import warnings

from telegram import BotCommand, Update
from telegram.error import BadRequest, TelegramError
from telegram.ext import Application, ApplicationBuilder, ContextTypes, TypeHandler
from telegram.warnings import PTBUserWarning

from bot.service import Service
from bot.settings import Settings
from handlers.events import EDIT, NOTICE, Inbound, Outbound, Tap
from handlers.i18n import USER_LANGUAGES, N_, gettext_for

log = logging.getLogger(__name__)
# Sending through do_api_request is deliberate (see keyboard()); PTB would otherwise warn on every process start.
warnings.filterwarnings("ignore", message=r"Please use 'Bot\.\w+' instead of", category=PTBUserWarning)
CHANNEL = "telegram"
CALLBACK_LIMIT = 64  # bytes, Telegram's limit for callback_data

COMMANDS = [
    ("start", N_("Begin or continue the survey")),
    ("language", N_("Change the language")),
    ("back", N_("Return to the previous question")),
    ("forget", N_("Delete your answers")),
    ("help", N_("List of commands")),
]


def callback_data(message: Outbound, key: str) -> str:
    return f"{message.prompt}|{message.token}|{key}"[:CALLBACK_LIMIT]


def parse_callback(data: str | None) -> Tap:
    parts = (data or "").split("|", 2)
    return Tap(*parts) if len(parts) == 3 else Tap("", "", "")  # unparseable: treated as a stale button


def inbound(update: Update) -> Inbound | None:
    user = update.effective_user
    if user is None or update.effective_chat is None:
        return None  # channel posts, polls and the like: nothing a respondent said
    hint = (user.language_code or "").split("-")[0].lower() or None
    base = dict(channel=CHANNEL, user_id=str(user.id), event_id=str(update.update_id), language_hint=hint)
    if update.callback_query is not None:
        return Inbound(**base, tap=parse_callback(update.callback_query.data))
    message = update.effective_message
    # Stickers, photos and voice notes where a number was expected reach the survey as empty text,
    # which it answers with a clear "please choose" in the user's language.
    return Inbound(**base, text=(message.text or message.caption or "") if message else "")


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


class TelegramChannel:
    def __init__(self, service: Service):
        self.service = service

    async def on_update(self, update: Update, bot) -> None:
        """Handle one update completely: commit through the service, then send. Raises if the commit failed,
        so a webhook caller can answer Telegram with an error and get the update again."""
        event = inbound(update)
        if event is None:
            return
        messages = await self.service.handle(event)
        query = update.callback_query
        notices = [m.text for m in messages if m.kind == NOTICE]
        chat_id = update.effective_chat.id
        if query is not None:
            try:
                await query.answer(" ".join(notices)[:200] or None)
            except TelegramError as error:  # an old query (>15 min) cannot be answered; the rest still matters
                log.info("callback answer failed: %s", error)
        for message in messages:
            if message.kind == NOTICE and query is not None:
                continue
            # do_api_request without a return type: the echoed Message is not parsed into objects we never read.
            if message.kind == EDIT and query is not None and query.message is not None:
                try:
                    await bot.do_api_request(
                        "editMessageText", api_kwargs=request(chat_id, message, message_id=query.message.message_id)
                    )
                except BadRequest as error:
                    if "not modified" not in str(error).lower():
                        raise
                continue
            await bot.do_api_request("sendMessage", api_kwargs=request(chat_id, message))

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


def polling_application(settings: Settings, start_app) -> Application:
    """`start_app()` builds the database-backed app inside PTB's event loop; returns (App, TelegramChannel)."""
    state = {}

    async def post_init(application: Application) -> None:
        state["app"] = app = await start_app()
        channel = TelegramChannel(app.service)
        attach(application, channel)
        await channel.set_commands(application.bot)

    async def post_shutdown(_application: Application) -> None:
        if "app" in state:
            await state["app"].close()

    return builder(settings).post_init(post_init).post_shutdown(post_shutdown).build()

"""A bare python-telegram-bot echo bot, configured like Pikir's Telegram channel (same HTTP client, same
concurrency), as the yardstick for bench/telegram_throughput.py."""
from __future__ import annotations

import os

from telegram import Update
from telegram.ext import ApplicationBuilder, ContextTypes, MessageHandler, filters


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await context.bot.send_message(update.effective_chat.id, update.effective_message.text or "?")


def main() -> None:
    root = os.environ["TELEGRAM_API_URL"].rstrip("/")
    application = (
        ApplicationBuilder().token(os.environ["TELEGRAM_TOKEN"]).base_url(f"{root}/bot").base_file_url(f"{root}/file/bot")
        .concurrent_updates(4).build()
    )
    application.add_handler(MessageHandler(filters.ALL, echo))
    application.run_polling(allowed_updates=["message"])


if __name__ == "__main__":
    main()

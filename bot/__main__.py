"""`python -m bot run|console|telegram|serve`.

`run` is what `make run` starts: the webhook server when TELEGRAM_WEBHOOK_URL is set, Telegram long polling when
TELEGRAM_TOKEN is set, the console otherwise.
"""
from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from bot import staff
from bot.console import ConsoleChannel
from bot.service import build
from bot.settings import Settings


async def console(settings: Settings, user: str) -> None:
    app = await build(settings)
    try:
        channel = ConsoleChannel(app.service, user_id=user, echo=not sys.stdin.isatty(), files=app.files)
        app.notifier.add("console", channel.push)
        app.notifier.start()
        await channel.run(sys.stdin)
        await app.notifier.deliver_once()  # what staff changed while this session ran
    finally:
        await app.close()


def telegram(settings: Settings) -> None:
    from bot.telegram import polling_application

    if not settings.telegram_token:
        sys.exit("TELEGRAM_TOKEN is not set")
    application = polling_application(settings, lambda: build(settings))
    application.run_polling(allowed_updates=["message", "edited_message", "callback_query"], drop_pending_updates=False)


def serve(settings: Settings, host: str, port: int) -> None:
    import uvicorn

    from bot.web import create_app

    uvicorn.run(create_app(settings), host=host, port=port, log_level="warning")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot", description="Pikir, a civic chatbot")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="webhook server, Telegram polling or the console, depending on the settings")
    console_parser = commands.add_parser("console", help="talk to the bot in this terminal (reads until end of input)")
    console_parser.add_argument("--user", default="local", help="who is talking (several users can share one database)")
    commands.add_parser("telegram", help="Telegram by long polling (TELEGRAM_TOKEN)")
    serve_parser = commands.add_parser("serve", help="the ASGI app: Telegram webhook, later WhatsApp and Open311")
    serve_parser.add_argument("--host", default="127.0.0.1")
    serve_parser.add_argument("--port", type=int, default=8080)
    staff.parser(commands)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    settings = Settings.from_env()
    command = args.command
    if command == "staff":
        return asyncio.run(staff.run(args, settings))
    if command == "run":
        command = "serve" if settings.telegram_webhook_url else "telegram" if settings.telegram_token else "console"
    if command == "console":
        asyncio.run(console(settings, getattr(args, "user", "local")))
    elif command == "telegram":
        telegram(settings)
    else:
        serve(settings, getattr(args, "host", "0.0.0.0"), getattr(args, "port", 8080))
    return 0


if __name__ == "__main__":
    sys.exit(main())

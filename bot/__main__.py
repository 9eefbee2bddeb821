"""`python -m bot run|console|telegram|serve`. `run` starts Telegram when TELEGRAM_TOKEN is set, else the console."""
from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from bot.console import ConsoleChannel
from bot.service import build
from bot.settings import Settings


async def console(settings: Settings, user: str) -> None:
    app = await build(settings)
    try:
        channel = ConsoleChannel(app.service, user_id=user, echo=not sys.stdin.isatty())
        await channel.run(sys.stdin)
    finally:
        await app.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot", description="Pikir, a civic chatbot")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="Telegram when TELEGRAM_TOKEN is set, otherwise the console")
    console_parser = commands.add_parser("console", help="talk to the bot in this terminal (reads until end of input)")
    for sub in (console_parser,):
        sub.add_argument("--user", default="local", help="who is talking (several users can share one database)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    settings = Settings.from_env()
    if args.command == "run" and settings.telegram_token:
        print("The Telegram channel is not built yet (issue 02); starting the console.", file=sys.stderr)
    asyncio.run(console(settings, getattr(args, "user", "local")))
    return 0


if __name__ == "__main__":
    sys.exit(main())

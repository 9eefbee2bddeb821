"""`python -m analysis export --format csv --out FILE`: research commands over the bot's database
(DATABASE_URL, or the default SQLite file under PIKIR_DATA_DIR)."""
from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import datetime
from pathlib import Path

from bot.settings import Settings
from handlers.survey.definition import BUILTIN, load
from storage.database import make_engine, upgrade


async def _export(args, settings: Settings) -> int:
    from analysis.export import FORMATS

    engine = make_engine(settings.database_url, schema=settings.database_schema)
    try:
        await upgrade(engine)
        survey = load(settings.survey_path or BUILTIN, settings.country)
        since = datetime.fromisoformat(args.since) if args.since else None
        count = await FORMATS[args.format](engine, survey, Path(args.out), since=since)
    finally:
        await engine.dispose()
    print(f"{count} responses written to {args.out}", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m analysis", description="Pikir research tools")
    commands = parser.add_subparsers(dest="command", required=True)
    export = commands.add_parser("export", help="completed responses as a file")
    export.add_argument("--format", choices=["csv"], default="csv")
    export.add_argument("--out", required=True)
    export.add_argument("--since", help="only responses completed on or after this date (YYYY-MM-DD)")
    args = parser.parse_args(argv)
    return asyncio.run(_export(args, Settings.from_env()))


if __name__ == "__main__":
    sys.exit(main())

"""Research commands over the bot's database (DATABASE_URL, or the default SQLite file under PIKIR_DATA_DIR):

    python -m analysis export --format csv|xlsx|sav|parquet --out FILE [--survey VERSION] [--since DATE]
                              [--city CODE ...] [--language kk|ru|ky ...] [--labels ru|kk|ky|en]
    python -m analysis codebook [--format md|csv] [--labels ru|kk|ky|en] [--out FILE]
"""
from __future__ import annotations

import argparse
import asyncio
import os
import sys
from datetime import datetime
from pathlib import Path

from bot.settings import Settings
from analysis.labels import LABEL_LANGUAGES
from handlers.i18n import USER_LANGUAGES
from handlers.survey.definition import BUILTIN, load
from storage.database import make_engine, upgrade


async def export_command(args, settings: Settings) -> int:
    from analysis.export import FORMATS, Selection

    selection = Selection(
        since=args.since, version=args.survey, cities=tuple(args.city), languages=tuple(args.language)
    )
    engine = make_engine(settings.database_url, schema=settings.database_schema)
    try:
        await upgrade(engine)
        survey = load(settings.survey_path or BUILTIN, settings.country)
        count = await FORMATS[args.format](engine, survey, Path(args.out), selection=selection, labels=args.labels)
    finally:
        await engine.dispose()
    print(f"{count} responses written to {args.out}", file=sys.stderr)
    return 0


def codebook_command(args, settings: Settings) -> int:
    from analysis import codebook
    from analysis.labels import dictionary, scoring_key

    survey = load(settings.survey_path or BUILTIN, settings.country)
    variables = dictionary(survey, scoring_key(survey), args.labels)
    if args.format == "md":
        text = codebook.as_markdown(variables, args.labels, title=f"Codebook: {survey.id} v{survey.version}")
    else:
        text = codebook.as_csv(variables, args.labels)
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m analysis", description="Pikir research tools")
    commands = parser.add_subparsers(dest="command", required=True)

    export_parser = commands.add_parser("export", help="completed responses as a file")
    export_parser.add_argument("--format", choices=["csv", "xlsx", "sav", "parquet"], default="csv")
    export_parser.add_argument("--out", required=True)
    export_parser.add_argument("--survey", type=int, metavar="VERSION", help="only this version of the survey")
    export_parser.add_argument("--since", type=datetime.fromisoformat, metavar="DATE",
                               help="only responses completed on or after this date or time (YYYY-MM-DD, UTC)")
    export_parser.add_argument("--city", nargs="+", action="extend", default=[], metavar="CODE",
                               help="only these city codes (see the codebook; 99 = other)")
    export_parser.add_argument("--language", nargs="+", action="extend", default=[], choices=USER_LANGUAGES,
                               help="only responses in these languages")
    export_parser.add_argument("--labels", choices=LABEL_LANGUAGES, default="ru", help="language of the labels")
    export_parser.set_defaults(run=lambda args, settings: asyncio.run(export_command(args, settings)))

    codebook_parser = commands.add_parser("codebook", help="the data dictionary of the export columns")
    codebook_parser.add_argument("--format", choices=["md", "csv"], default="md")
    codebook_parser.add_argument("--labels", choices=LABEL_LANGUAGES, default="ru", help="language of the labels")
    codebook_parser.add_argument("--out", help="file to write (default: standard output)")
    codebook_parser.set_defaults(run=codebook_command)

    args = parser.parse_args(argv)
    env = dict(os.environ)
    if args.command == "codebook":  # needs no database and no pseudonym key: keep Settings from generating one
        env.setdefault("PIKIR_SECRET", "unused")
    return args.run(args, Settings.from_env(env))


if __name__ == "__main__":
    sys.exit(main())

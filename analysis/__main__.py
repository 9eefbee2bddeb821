"""Research commands over the bot's database (DATABASE_URL, or the default SQLite file under PIKIR_DATA_DIR):

    python -m analysis export --format csv|xlsx|sav|parquet --out FILE [--survey VERSION] [--since DATE]
                              [--city CODE ...] [--language kk|ru|ky ...] [--labels ru|kk|ky|en]
    python -m analysis codebook [--format md|csv] [--labels ru|kk|ky|en] [--out FILE]
    python -m analysis scores [--weighted] [--by city language q7 q8] [--out FILE.csv] [filters]
    python -m analysis efa [--items 16 21] [--method principal minres] [--json FILE] [--scree FILE.png] [filters]
    python -m analysis report --out report.html|report.pdf [--labels ru|kk|ky|en] [filters]
    python -m analysis simulate --n 929 [--seed 1]
    python -m analysis ideas --cycle ID --format csv|xlsx --out FILE [--labels ru|kk|ky|en]

The filters are export's: --survey, --since, --city, --language.
"""
from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import os
import sys
import threading
from dataclasses import asdict
from datetime import datetime
from pathlib import Path

# One BLAS thread: the matrices here are small (21 × 21, or 100,000 × 21 once), and OpenBLAS's idle threads
# spin on the second core, which the database needs (a second of CPU in every 100,000-response simulate).
# Set before numpy is first imported; an explicit setting in the environment wins.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import pandas as pd  # noqa: E402

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


async def _selected_frame(args, settings: Settings):
    """The selected completed responses as a DataFrame, with the survey they answer."""
    from analysis.export import Selection
    from analysis.responses import load_frame

    selection = Selection(since=args.since, version=args.survey, cities=tuple(args.city), languages=tuple(args.language))
    engine = make_engine(settings.database_url, schema=settings.database_schema)
    try:
        await upgrade(engine)
        survey = load(settings.survey_path or BUILTIN, settings.country)
        return await load_frame(engine, survey, **asdict(selection)), survey
    finally:
        await engine.dispose()


def scores_command(args, settings: Settings) -> int:
    from analysis.export import write_csv
    from analysis.factor_key import load_factor_key
    from analysis.scores import factor_scores, group_summary

    frame, _survey = asyncio.run(_selected_frame(args, settings))
    scores = factor_scores(frame, load_factor_key(), weighted=args.weighted)
    if args.out:
        write_csv(pd.concat([frame[["response_id"]], scores.round(4)], axis=1), args.out)
        print(f"{len(frame)} respondents' scores written to {args.out}", file=sys.stderr)
    with pd.option_context("display.width", 200, "display.max_columns", 30, "display.precision", 3):
        for column in args.by:
            print(f"\n# by {column}\n{group_summary(frame, scores, column)}")
    return 0


def _import_meanwhile(*modules: str) -> None:
    """Import `modules` in a thread while the main one waits for the database: scipy and scikit-learn (under
    factor_analyzer) and matplotlib take one to two seconds to import, the read about as long."""
    threading.Thread(target=lambda: [importlib.import_module(m) for m in modules], daemon=True).start()


def efa_command(args, settings: Settings) -> int:
    _import_meanwhile("analysis.efa", "factor_analyzer")
    frame, _survey = asyncio.run(_selected_frame(args, settings))
    from analysis.efa import run_efa, scree_plot, to_json, to_text
    from analysis.factor_key import load_factor_key

    key = load_factor_key()
    item_sets = {"16": list(key.assigned_items), "21": list(key.all_items)}
    results = {}
    for items in args.items:
        for method in args.method:
            result = run_efa(frame, item_sets[items], method=method, key=key)
            results[f"{items}_items_{method}"] = result
            print(f"\n## {items} statements, {method}, varimax\n{to_text(result)}")
    if args.json:
        Path(args.json).write_text(json.dumps({k: to_json(r) for k, r in results.items()}, ensure_ascii=False, indent=1))
    if args.scree:
        scree_plot(next(iter(results.values())), args.scree)
    return 0


def report_command(args, settings: Settings) -> int:
    _import_meanwhile("analysis.report", "factor_analyzer")
    frame, survey = asyncio.run(_selected_frame(args, settings))
    from analysis.report import build_report

    build_report(frame, survey, Path(args.out), language=args.labels)
    print(f"report on {len(frame)} responses written to {args.out}", file=sys.stderr)
    return 0


def simulate_command(args, settings: Settings) -> int:
    from analysis.simulate import store_simulated

    async def run() -> int:
        engine = make_engine(settings.database_url, schema=settings.database_schema)
        try:
            await upgrade(engine)
            return await store_simulated(engine, load(settings.survey_path or BUILTIN, settings.country), args.n, args.seed)
        finally:
            await engine.dispose()

    print(f"{asyncio.run(run())} simulated responses stored", file=sys.stderr)
    return 0


def ideas_command(args, settings: Settings) -> int:
    """Participatory-budget results: supports per approved idea and district of one cycle (analysis/ideas.py)."""
    from analysis.ideas import UnknownCycle, export
    from handlers.deployment import load as load_deployment
    from storage.time import now

    deployment = load_deployment(settings.city)
    cycle = args.cycle or getattr(deployment.latest_cycle(now().date()), "id", None)
    if cycle is None:
        print("no budget cycle has opened yet; give --cycle", file=sys.stderr)
        return 2

    async def run() -> int:
        engine = make_engine(settings.database_url, schema=settings.database_schema)
        try:
            await upgrade(engine)
            return await export(engine, deployment, cycle, Path(args.out), args.format, args.labels)
        finally:
            await engine.dispose()

    try:
        count = asyncio.run(run())
    except UnknownCycle as error:
        print(error, file=sys.stderr)
        return 2
    still_open = next((c for c in deployment.cycles if c.id == cycle and c.is_open(now().date())), None)
    note = " (the cycle is still open: interim numbers)" if still_open else ""
    print(f"{count} ideas of cycle {cycle} written to {args.out}{note}", file=sys.stderr)
    return 0


def _filters(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--survey", type=int, metavar="VERSION", help="only this version of the survey")
    parser.add_argument("--since", type=datetime.fromisoformat, metavar="DATE",
                        help="only responses completed on or after this date or time (YYYY-MM-DD, UTC)")
    parser.add_argument("--city", nargs="+", action="extend", default=[], metavar="CODE",
                        help="only these city codes (see the codebook; 99 = other)")
    parser.add_argument("--language", nargs="+", action="extend", default=[], choices=USER_LANGUAGES,
                        help="only responses in these languages")


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
    _filters(export_parser)
    export_parser.add_argument("--labels", choices=LABEL_LANGUAGES, default="ru", help="language of the labels")
    export_parser.set_defaults(run=lambda args, settings: asyncio.run(export_command(args, settings)))

    codebook_parser = commands.add_parser("codebook", help="the data dictionary of the export columns")
    codebook_parser.add_argument("--format", choices=["md", "csv"], default="md")
    codebook_parser.add_argument("--labels", choices=LABEL_LANGUAGES, default="ru", help="language of the labels")
    codebook_parser.add_argument("--out", help="file to write (default: standard output)")
    codebook_parser.set_defaults(run=codebook_command)

    scores_parser = commands.add_parser("scores", help="F1–F5 per respondent, and mean/SD/n per group")
    scores_parser.add_argument("--weighted", action="store_true", help="loading-weighted means instead of plain means")
    scores_parser.add_argument("--by", nargs="+", default=["city", "language", "q7", "q8"], metavar="COLUMN")
    scores_parser.add_argument("--out", help="CSV of response_id and F1–F5 per respondent")
    _filters(scores_parser)
    scores_parser.set_defaults(run=scores_command)

    efa_parser = commands.add_parser("efa", help="re-estimate the five factors beside Table Е.1")
    efa_parser.add_argument("--items", nargs="+", choices=["16", "21"], default=["16", "21"],
                            help="the 16 statements of Table Е.1 (the source's final solution) and/or all 21")
    efa_parser.add_argument("--method", nargs="+", choices=["principal", "minres"], default=["principal", "minres"])
    efa_parser.add_argument("--json", help="write every solution as JSON")
    efa_parser.add_argument("--scree", help="write the scree plot of the first solution (PNG)")
    _filters(efa_parser)
    efa_parser.set_defaults(run=efa_command)

    report_parser = commands.add_parser("report", help="an HTML or PDF report a city official can read")
    report_parser.add_argument("--out", required=True, help="report.html or report.pdf")
    report_parser.add_argument("--labels", choices=LABEL_LANGUAGES, default="ru", help="language of the report")
    _filters(report_parser)
    report_parser.set_defaults(run=report_command)

    simulate_parser = commands.add_parser("simulate", help="store synthetic respondents drawn from Table Е.1's model")
    simulate_parser.add_argument("--n", type=int, default=929)
    simulate_parser.add_argument("--seed", type=int)
    simulate_parser.set_defaults(run=simulate_command)

    ideas_parser = commands.add_parser("ideas", help="participatory-budget results: supports per idea and district")
    ideas_parser.add_argument("--cycle", help="the budget cycle's id (default: the open or the last closed one)")
    ideas_parser.add_argument("--format", choices=["csv", "xlsx"], default="csv")
    ideas_parser.add_argument("--out", required=True)
    ideas_parser.add_argument("--labels", choices=LABEL_LANGUAGES, default="ru", help="language of the names")
    ideas_parser.set_defaults(run=ideas_command)

    args = parser.parse_args(argv)
    env = dict(os.environ)
    if args.command == "codebook":  # needs no database and no pseudonym key: keep Settings from generating one
        env.setdefault("PIKIR_SECRET", "unused")
    return args.run(args, Settings.from_env(env))


if __name__ == "__main__":
    sys.exit(main())

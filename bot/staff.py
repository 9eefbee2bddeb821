"""`python -m bot staff …`: what city-service staff and moderators do from a terminal.

    python -m bot staff --as anna complaint list [--state submitted] [--category roads]
    python -m bot staff --as anna complaint show KZ-2026-1234-5678
    python -m bot staff --as anna complaint set-status KZ-2026-1234-5678 in_progress --note "Crew sent"
    python -m bot staff --as anna idea list [--state pending]
    python -m bot staff --as anna idea approve 12
    python -m bot staff --as anna idea reject 12 --reason "Not city land"

Who may: the names in PIKIR_STAFF; `--as` (or PIKIR_OPERATOR) says who is acting, and is written into the
history. Output is in --language (default PIKIR_DEFAULT_LANGUAGE). Citizens hear of every change in their own
language, through the notifier of the running bot.
"""
from __future__ import annotations

import os
import sys

from bot.settings import Settings
from handlers.complaints.numbers import normalise
from handlers.complaints.states import STATE_NAMES, STATES, TransitionError
from handlers.deployment import load as load_deployment
from handlers.i18n import gettext_for
from storage import complaints, ideas
from storage.database import make_engine, upgrade


def parser(commands) -> None:
    staff = commands.add_parser("staff", help="staff commands: complaints and idea moderation (PIKIR_STAFF)")
    staff.add_argument("--as", dest="operator", default=os.environ.get("PIKIR_OPERATOR"),
                       help="who is acting (must be listed in PIKIR_STAFF)")
    staff.add_argument("--language", default=None, help="language of the output: kk, ru, ky or en")
    kinds = staff.add_subparsers(dest="kind", required=True)
    complaint = kinds.add_parser("complaint").add_subparsers(dest="action", required=True)
    listing = complaint.add_parser("list", help="newest first")
    listing.add_argument("--state", choices=STATES, action="append")
    listing.add_argument("--category", action="append")
    listing.add_argument("--limit", type=int, default=50)
    complaint.add_parser("show", help="everything about one complaint").add_argument("number")
    status = complaint.add_parser("set-status", help="move a complaint on; the citizen is told")
    status.add_argument("number")
    status.add_argument("state", choices=STATES)
    status.add_argument("--note", default=None, help="shown to the citizen; required to reject")
    idea = kinds.add_parser("idea").add_subparsers(dest="action", required=True)
    idea.add_parser("list").add_argument("--state", default="pending", choices=ideas.STATES)
    idea.add_parser("approve").add_argument("id", type=int)
    reject = idea.add_parser("reject")
    reject.add_argument("id", type=int)
    reject.add_argument("--reason", required=True, help="shown to the author")


async def run(args, settings: Settings, out=sys.stdout) -> int:
    _ = gettext_for(args.language or settings.default_language)
    if not args.operator or args.operator not in settings.staff:
        print(_("Not allowed: {who} is not on the staff list (PIKIR_STAFF).").format(who=args.operator or "?"),
              file=sys.stderr)
        return 2
    engine = make_engine(settings.database_url, schema=settings.database_schema)
    try:
        await upgrade(engine)
        deployment = load_deployment(settings.city)
        if args.kind == "complaint":
            return await _complaint(args, engine, deployment, _, out)
        return await _idea(args, engine, _, out)
    finally:
        await engine.dispose()


async def _complaint(args, engine, deployment, _, out) -> int:
    language = args.language or "ru"

    def category(code):
        found = deployment.category(code)
        return found.name(language) if found else code

    if args.action == "list":
        rows = await complaints.query(engine, states=args.state, service_codes=args.category, limit=args.limit)
        for v in rows:
            print(f"{v.number}  {v.created_at:%d.%m.%Y %H:%M}  {_(STATE_NAMES[v.state]):<14} {category(v.service_code)}"
                  f"  {v.description[:60]!r}", file=out)
        print(_("{count} complaints").format(count=len(rows)), file=out)
        return 0
    number = normalise(args.number, deployment.country) or args.number
    try:
        if args.action == "show":
            view = await complaints.staff_view(engine, number)
            v = view.complaint
            place = v.address or (f"{v.latitude:.5f}, {v.longitude:.5f}" if v.latitude is not None else "—")
            print(f"{v.number}  {category(v.service_code)}  {_(STATE_NAMES[v.state])}", file=out)
            print(_("Place: {place}").format(place=place), file=out)
            print(_("Description: {text}").format(text=v.description), file=out)
            print(_("Source: {source}").format(source=view.client or view.source), file=out)
            if view.personal:
                print(", ".join(f"{k}: {val}" for k, val in view.personal.items() if val), file=out)
            for at, state, note, actor in view.history:
                print(f"  {at:%d.%m.%Y %H:%M}  {_(STATE_NAMES[state])}  {actor}  {note or ''}", file=out)
            return 0
        v = await complaints.set_state(engine, number, args.state, args.note, args.operator)
    except complaints.NotFound:
        print(_("No report with the number {number} was found.").format(number=number), file=sys.stderr)
        return 1
    except TransitionError as error:
        print(_(error.message).format(**error.params), file=sys.stderr)
        return 1
    print(_("{number}: {state}. The citizen will be notified.").format(number=v.number, state=_(STATE_NAMES[v.state])),
          file=out)
    return 0


async def _idea(args, engine, _, out) -> int:
    if args.action == "list":
        rows = await ideas.listing(engine, state=args.state)
        for idea in rows:
            cost = f"  ~{idea.cost:,}".replace(",", " ") if idea.cost else ""
            print(f"#{idea.id}  {idea.cycle}  {idea.district}  {idea.category}  {idea.supports:>4}  {idea.title}{cost}",
                  file=out)
            if idea.state == "pending":  # what the moderator has to judge
                print(f"      {idea.description[:300]!r}", file=out)
        print(_("{count} ideas").format(count=len(rows)), file=out)
        return 0
    try:
        if args.action == "approve":
            await ideas.moderate(engine, args.id, approve=True, reason=None, actor=args.operator)
        else:
            await ideas.moderate(engine, args.id, approve=False, reason=args.reason, actor=args.operator)
    except ideas.ModerationError as error:
        print(_(error.message).format(**error.params), file=sys.stderr)
        return 1
    print(_("Idea #{id}: done. The author will be notified.").format(id=args.id), file=out)
    return 0

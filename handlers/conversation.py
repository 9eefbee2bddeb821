"""The conversation around the survey and the side flows: commands, the main menu, the language menu, consent,
resume and /forget; complaints and ideas are handed to their flows.

`Conversation.handle(session, event, citizen)` is the whole interface a channel needs: the session it last got
back (or None for a stranger), one inbound event and the citizen's pseudonym in; a `Reply` out. It never talks
to a channel; the flows read storage only through the records ports they are given, and ask for writes as
effects committed with the reply.
"""
from __future__ import annotations

import re
import secrets
from typing import Callable

from handlers.events import COUNT_DECLINE, FORGET, NOTICE, Choice, Inbound, Outbound, Reply
from handlers.i18n import LANGUAGE_NAMES, USER_LANGUAGES, N_, gettext_for
from handlers.complaints.flow import ComplaintFlow
from handlers.ideas.browse import IdeaBrowser
from handlers.ideas.flow import IdeaFlow
from handlers.deployment import Deployment
from handlers.deployment import load as load_deployment
from handlers.session import (COMPLAINT, CONSENT, DONE, FORGET_CONFIRM, IDEA, IDEAS, LANGUAGE, NEW, RESUME, SURVEY,
                              Session)
from handlers.survey.definition import Survey
from handlers.survey.engine import SurveyEngine

DISCARD_RESPONSE = "discard_response"  # effect: the unfinished response is thrown away (start over)
CHOOSE_LANGUAGE = N_("Choose your language")
MENU = "menu"
# Commands that open a flow, and those a flow steps aside for (its draft is kept).
FLOW_COMMANDS = (COMPLAINT, IDEA, IDEAS)
PAUSING_COMMANDS = ("start", "menu")
_ONE_NUMBER = re.compile(r"^\s*(\d{1,3})\s*$")


class Conversation:
    def __init__(
        self, survey: Survey, deployment: Deployment | None = None, *, complaints=None, ideas=None,
        default_language: str = "ru", new_id: Callable[[], str] | None = None, clock=None,
    ):
        self.survey = survey
        self.engine = SurveyEngine(survey)
        self.deployment = deployment or load_deployment("almaty")
        self.default_language = default_language
        self.new_id = new_id or (lambda: secrets.token_hex(8))
        common = dict(default_language=default_language, clock=clock)
        self.flows = {
            COMPLAINT: ComplaintFlow(self.deployment, complaints, **common),
            IDEA: IdeaFlow(self.deployment, ideas, **common),
            IDEAS: IdeaBrowser(self.deployment, ideas, **common),
        }

    async def handle(self, session: Session | None, event: Inbound, citizen: str = "") -> Reply:
        s = session.copy() if session else Session()
        hint = event.language_hint if event.language_hint in USER_LANGUAGES else None
        reply = Reply(s)
        in_flow = s.flow is not None and not s.overlay
        if event.command is not None:
            reply.messages = await self._command(s, event, hint, reply, citizen)
        elif event.tap is not None:
            tap = event.tap
            if tap.prompt != s.prompt or tap.token != s.token:
                _ = self._gettext(s, hint)
                return Reply(session, [Outbound(_("That button is no longer active."), kind=NOTICE)])
            if in_flow:
                reply.messages = await self.flows[s.flow].handle(s, event, citizen, reply)
            else:
                reply.messages = await self._choice(s, tap.key, hint, reply, citizen)
        elif in_flow:
            reply.messages = await self.flows[s.flow].handle(s, event, citizen, reply)
        else:
            reply.messages = await self._text(s, event.text or "", hint, reply, citizen)
        if in_flow and s.flow is None and not s.overlay and reply.session is not None and "_flow" not in s.draft:
            reply.messages += self._open(s, MENU, hint)  # the flow ended: offer what else can be done
        return reply

    # -- inputs -------------------------------------------------------------------------------------------------
    async def _command(self, s: Session, event: Inbound, hint, reply: Reply, citizen: str) -> list[Outbound]:
        command = event.command
        words = (event.text or "").split(maxsplit=1)
        argument = words[1] if len(words) > 1 else ""
        _ = self._gettext(s, hint)
        if s.flow and command in PAUSING_COMMANDS:
            self.flows[s.flow].pause(s)
        if command in FLOW_COMMANDS:
            if s.language is None:  # a flow talks in one language: ask which, then go on
                s.draft["_then"] = command
                return self._open(s, LANGUAGE, hint)
            s.overlay = None
            return await self.flows[command].start(s, citizen)
        if command == "status":
            return [*await self.flows[COMPLAINT].status(s, argument, citizen), *self._flow_prompt(s)]
        if command == "cancel":
            if s.flow:
                s.overlay = None
                return self.flows[s.flow].cancel(s)
            return [Outbound(_("There is nothing to cancel.")), *self.current(s, hint)]
        if command == "menu":
            return self._open(s, MENU, hint)
        if command == "start":
            if s.stage == SURVEY:
                return self._open(s, RESUME, hint)
            if s.stage == DONE:
                return [Outbound(_("You have already completed the survey. Thank you!")), self._help(s, hint)]
            s.stage = NEW
            return self._open(s, LANGUAGE, hint)
        if command == "language":
            return self._open(s, LANGUAGE, hint)
        if command == "forget":
            return self._open(s, FORGET_CONFIRM, hint)
        if command == "back":
            if s.overlay:
                s.overlay = None
                s.asked += 1
                return self.current(s, hint)
            if s.flow:
                return self.flows[s.flow].back(s)
            if s.stage == SURVEY:
                return self.engine.back(s)
            return [Outbound(_("There is nothing to go back to.")), *self.current(s, hint)]
        if command == "help":
            return [self._help(s, hint), *self.current(s, hint)]
        unknown = _("I don't know the command /{command}.").format(command=command[:32])
        return [Outbound(unknown, kind=NOTICE), self._help(s, hint), *self.current(s, hint)]

    async def _text(self, s: Session, text: str, hint, reply: Reply, citizen: str) -> list[Outbound]:
        if s.overlay or s.stage in (NEW, CONSENT):
            if s.stage == NEW and not s.overlay:
                return self._open(s, LANGUAGE, hint)
            choices = self._render(s, hint)[-1].choices
            match = _ONE_NUMBER.match(text)
            by_label = {c.label.casefold(): c.key for c in choices}
            if match and 1 <= int(match.group(1)) <= len(choices):
                return await self._choice(s, choices[int(match.group(1)) - 1].key, hint, reply, citizen)
            if text.strip().casefold() in by_label:
                return await self._choice(s, by_label[text.strip().casefold()], hint, reply, citizen)
            _ = self._gettext(s, hint)
            problem = _("Please answer with the number of an option, from 1 to {count}.").format(count=len(choices))
            return [Outbound(problem, kind=NOTICE), *self._render(s, hint)]
        if s.stage == SURVEY:
            return self.engine.on_text(s, text)
        _ = self._gettext(s, hint)
        return [Outbound(_("You have already completed the survey. Thank you!")), self._help(s, hint)]

    async def _choice(self, s: Session, key: str, hint, reply: Reply, citizen: str) -> list[Outbound]:
        if s.overlay == LANGUAGE:
            if key not in USER_LANGUAGES:
                return self._stale(s, hint)
            s.language, s.overlay = key, None
            s.asked += 1
            if then := s.draft.pop("_then", None):
                return await self.flows[then].start(s, citizen)
            if s.stage == NEW and not s.flow:
                s.stage = CONSENT
            return self.current(s, hint)
        if s.overlay == MENU:
            s.overlay = None
            s.asked += 1
            if key == "survey" and s.language and s.stage in (NEW, CONSENT):  # the language is known already
                s.stage = CONSENT
                return self._render(s, hint)
            command = "start" if key == "survey" else key
            if command not in ("start", "status", "language", *FLOW_COMMANDS):
                return self._stale(s, hint)
            return await self._command(s, Inbound("", "", "", text=f"/{command}"), hint, reply, citizen)
        if s.overlay == RESUME:
            s.overlay = None
            if key == "restart":
                reply.effects.append(DISCARD_RESPONSE)
                s.response_id = self.new_id()
                return self.engine.begin(s)
            s.asked += 1
            return self.current(s, hint)
        if s.overlay == FORGET_CONFIRM:
            _ = self._gettext(s, hint)
            if key != "yes":
                s.overlay = None
                s.asked += 1
                return [Outbound(_("Nothing was deleted.")), *self.current(s, hint)]
            reply.session = None
            reply.effects.append(FORGET)
            return [Outbound(_("Everything you answered has been deleted. Send /start to begin again."))]
        if s.stage == CONSENT:
            if key == "no":
                _ = self._gettext(s, hint)
                reply.session = None
                reply.effects.append(COUNT_DECLINE)
                return [Outbound(_("Thank you for your time. If you change your mind, send /start."))]
            s.stage, s.response_id = SURVEY, self.new_id()
            return self.engine.begin(s)
        if s.stage == SURVEY:
            return self.engine.on_tap(s, key)
        return self._stale(s, hint)

    # -- rendering ----------------------------------------------------------------------------------------------
    def current(self, s: Session, hint=None) -> list[Outbound]:
        """What the user should see now: the open prompt, re-asked."""
        if s.flow and not s.overlay:
            return self.flows[s.flow].render(s)
        if s.stage == NEW and not s.overlay:
            return self._open(s, LANGUAGE, hint)
        return self._render(s, hint)

    def _flow_prompt(self, s: Session) -> list[Outbound]:
        """Inside a flow, its question again after an aside (/status, /help); elsewhere nothing."""
        return self.flows[s.flow].render(s) if s.flow and not s.overlay else []

    def _open(self, s: Session, overlay: str, hint) -> list[Outbound]:
        s.overlay = overlay
        s.asked += 1
        return self._render(s, hint)

    def _render(self, s: Session, hint) -> list[Outbound]:
        _ = self._gettext(s, hint)
        if s.overlay == LANGUAGE:
            # Before a language is chosen nobody knows which one the user reads, so the menu asks in all three.
            title = "\n".join(gettext_for(lang)(CHOOSE_LANGUAGE) for lang in USER_LANGUAGES)
            preferred = s.language or hint
            choices = tuple(Choice(l, LANGUAGE_NAMES[l], picked=l == preferred) for l in USER_LANGUAGES)
            return [Outbound(title, choices, prompt=LANGUAGE, token=s.token)]
        if s.overlay == RESUME:
            q = self.survey.question(s.node)
            text = _("You have an unfinished survey (question {n} / {total}). Continue where you stopped, or start over?")
            choices = (Choice("continue", _("Continue")), Choice("restart", _("Start over")))
            return [Outbound(text.format(n=q.position, total=self.survey.total), choices, prompt=RESUME, token=s.token)]
        if s.overlay == MENU:
            return [self._menu(s, hint)]
        if s.overlay == FORGET_CONFIRM:
            text = _("Delete everything you have answered? This cannot be undone.")
            choices = (Choice("yes", _("Yes, delete")), Choice("no", _("No, keep")))
            return [Outbound(text, choices, prompt=FORGET_CONFIRM, token=s.token)]
        if s.stage == CONSENT:
            text = "\n\n".join(
                (self.survey.intro(s.language), self.survey.consent(s.language), _("Do you agree to take part?"))
            )
            choices = (Choice("yes", _("I agree")), Choice("no", _("I do not agree")))
            return [Outbound(text, choices, prompt="consent", token=s.token)]
        if s.stage == SURVEY:
            return [self.engine.ask(s)]
        return [Outbound(_("You have already completed the survey. Thank you!"))]

    def _menu(self, s: Session, hint) -> Outbound:
        _ = self._gettext(s, hint)
        choices = []
        if s.stage != DONE:
            choices.append(Choice("survey", _("Continue the survey") if s.stage == SURVEY else _("Take the survey")))
        choices += [Choice("complaint", _("Report a problem")), Choice("status", _("My reports")),
                    Choice(IDEA, _("Propose an idea")), Choice(IDEAS, _("Support ideas")),
                    Choice("language", _("Language"))]
        return Outbound(_("What would you like to do?"), tuple(choices), prompt=MENU, token=s.token)

    def _help(self, s: Session, hint) -> Outbound:
        _ = self._gettext(s, hint)
        return Outbound(
            _(
                "Commands:\n"
                "/start — begin or continue the survey\n"
                "/complaint — report a problem to the city services\n"
                "/status — your reports and their status (/status NUMBER for one)\n"
                "/idea — propose an idea for the city budget\n"
                "/ideas — support the ideas of other citizens\n"
                "/menu — everything the bot can do\n"
                "/language — change the language\n"
                "/back — return to the previous question\n"
                "/cancel — stop filling in a report or an idea\n"
                "/forget — delete your answers and reports' contact details\n"
                "/help — this list"
            )
        )

    def _stale(self, s: Session, hint) -> list[Outbound]:
        return [Outbound(self._gettext(s, hint)("That button is no longer active."), kind=NOTICE)]

    def _gettext(self, s: Session, hint):
        return gettext_for(s.language or hint or self.default_language)

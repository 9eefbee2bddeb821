"""The conversation around the survey: commands, the language menu, consent, resume and /forget.

`Conversation.handle(session, event)` is the whole interface a channel needs: the session it last got back
(or None for a stranger) and one inbound event in; a `Reply` out. It never touches storage or a channel.
"""
from __future__ import annotations

import re
import secrets
from typing import Callable

from handlers.events import COUNT_DECLINE, FORGET, NOTICE, Choice, Inbound, Outbound, Reply
from handlers.i18n import LANGUAGE_NAMES, USER_LANGUAGES, N_, gettext_for
from handlers.session import CONSENT, DONE, FORGET_CONFIRM, LANGUAGE, NEW, RESUME, SURVEY, Session
from handlers.survey.definition import Survey
from handlers.survey.engine import SurveyEngine

DISCARD_RESPONSE = "discard_response"  # effect: the unfinished response is thrown away (start over)
CHOOSE_LANGUAGE = N_("Choose your language")
_ONE_NUMBER = re.compile(r"^\s*(\d{1,3})\s*$")


class Conversation:
    def __init__(self, survey: Survey, default_language: str = "ru", new_id: Callable[[], str] | None = None):
        self.survey = survey
        self.engine = SurveyEngine(survey)
        self.default_language = default_language
        self.new_id = new_id or (lambda: secrets.token_hex(8))

    def handle(self, session: Session | None, event: Inbound) -> Reply:
        s = session.copy() if session else Session()
        hint = event.language_hint if event.language_hint in USER_LANGUAGES else None
        reply = Reply(s)
        if event.command is not None:
            reply.messages = self._command(s, event.command, hint, reply)
        elif event.tap is not None:
            tap = event.tap
            if tap.prompt != s.prompt or tap.token != s.token:
                _ = self._gettext(s, hint)
                return Reply(session, [Outbound(_("That button is no longer active."), kind=NOTICE)])
            reply.messages = self._choice(s, tap.key, hint, reply)
        else:
            reply.messages = self._text(s, event.text or "", hint, reply)
        return reply

    # -- inputs -------------------------------------------------------------------------------------------------
    def _command(self, s: Session, command: str, hint, reply: Reply) -> list[Outbound]:
        _ = self._gettext(s, hint)
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
            if s.stage == SURVEY:
                return self.engine.back(s)
            return [Outbound(_("There is nothing to go back to.")), *self.current(s, hint)]
        if command == "help":
            return [self._help(s, hint), *self.current(s, hint)]
        unknown = _("I don't know the command /{command}.").format(command=command[:32])
        return [Outbound(unknown, kind=NOTICE), self._help(s, hint), *self.current(s, hint)]

    def _text(self, s: Session, text: str, hint, reply: Reply) -> list[Outbound]:
        if s.overlay or s.stage in (NEW, CONSENT):
            if s.stage == NEW and not s.overlay:
                return self._open(s, LANGUAGE, hint)
            choices = self._render(s, hint)[-1].choices
            match = _ONE_NUMBER.match(text)
            by_label = {c.label.casefold(): c.key for c in choices}
            if match and 1 <= int(match.group(1)) <= len(choices):
                return self._choice(s, choices[int(match.group(1)) - 1].key, hint, reply)
            if text.strip().casefold() in by_label:
                return self._choice(s, by_label[text.strip().casefold()], hint, reply)
            _ = self._gettext(s, hint)
            problem = _("Please answer with the number of an option, from 1 to {count}.").format(count=len(choices))
            return [Outbound(problem, kind=NOTICE), *self._render(s, hint)]
        if s.stage == SURVEY:
            return self.engine.on_text(s, text)
        _ = self._gettext(s, hint)
        return [Outbound(_("You have already completed the survey. Thank you!")), self._help(s, hint)]

    def _choice(self, s: Session, key: str, hint, reply: Reply) -> list[Outbound]:
        if s.overlay == LANGUAGE:
            if key not in USER_LANGUAGES:
                return self._stale(s, hint)
            s.language, s.overlay = key, None
            s.asked += 1
            if s.stage == NEW:
                s.stage = CONSENT
            return self.current(s, hint)
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
        if s.stage == NEW and not s.overlay:
            return self._open(s, LANGUAGE, hint)
        return self._render(s, hint)

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

    def _help(self, s: Session, hint) -> Outbound:
        _ = self._gettext(s, hint)
        return Outbound(
            _(
                "Commands:\n"
                "/start — begin or continue the survey\n"
                "/language — change the language\n"
                "/back — return to the previous question\n"
                "/forget — delete your answers\n"
                "/help — this list"
            )
        )

    def _stale(self, s: Session, hint) -> list[Outbound]:
        return [Outbound(self._gettext(s, hint)("That button is no longer active."), kind=NOTICE)]

    def _gettext(self, s: Session, hint):
        return gettext_for(s.language or hint or self.default_language)

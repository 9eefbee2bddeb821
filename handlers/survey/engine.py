"""Moves a session through a survey definition one input at a time. Pure: no I/O, no channel, no clock.

Text answers work on every channel (numbers, or an option's label); taps come from buttons. A multi-select
can be toggled tap by tap and submitted with Done, or answered at once with "1, 3, 5".
"""
from __future__ import annotations

import re

from handlers.events import EDIT, MESSAGE, NOTICE, Choice, Outbound
from handlers.i18n import gettext_for
from handlers.session import DONE, Answer, Session
from handlers.survey.definition import Question, Survey

OTHER_TEXT_LIMIT = 300
_NUMBERS = re.compile(r"^\s*\d{1,4}(?:\s*[,;]\s*\d{1,4}|\s+\d{1,4})*\s*$")

BACK, DONE_KEY = "back", "done"


class SurveyEngine:
    def __init__(self, survey: Survey):
        self.survey = survey

    # -- asking -------------------------------------------------------------------------------------------------
    def begin(self, s: Session) -> list[Outbound]:
        s.node, s.history, s.answers, s.picks, s.awaiting_other = self.survey.first.id, [], {}, [], None
        s.asked += 1
        return [self.ask(s)]

    def ask(self, s: Session, kind: str = MESSAGE) -> Outbound:
        _ = gettext_for(s.language)
        q = self.survey.question(s.node)
        progress = _("Question {n} / {total}").format(n=q.position, total=self.survey.total)
        back = (Choice(BACK, _("Back")),) if s.history or s.awaiting_other else ()
        if s.awaiting_other:
            label = q.option(s.awaiting_other).label(s.language)
            text = f"{progress}\n\n{_('Please type your answer for «{option}».').format(option=label)}"
            return Outbound(text, actions=back, prompt=q.id, token=s.token, kind=kind)
        parts = [progress]
        if q.preamble:
            parts.append(q.preamble(s.language))
        parts.append(q.text(s.language))
        hint = self._hint(q, s.language)
        if hint:
            parts.append(hint)
        previous = s.answers.get(q.id)
        picked = set(s.picks) if q.kind == "multi" else set(previous.codes if previous else ())
        choices = tuple(
            Choice(o.code, o.label(s.language), short=o.code if q.kind == "scale" else None, picked=o.code in picked)
            for o in q.options
        )
        actions = back + ((Choice(DONE_KEY, _("Done")),) if q.kind == "multi" else ())
        layout = {"scale": "scale", "multi": "multi"}.get(q.kind, "list")
        return Outbound("\n\n".join(parts), choices, actions, prompt=q.id, token=s.token, layout=layout, kind=kind)

    def _hint(self, q: Question, language: str) -> str | None:
        _ = gettext_for(language)
        if q.kind == "multi" and q.max:
            return _("Choose up to {max} options and press «Done», or send their numbers separated by commas.").format(
                max=q.max
            )
        if q.kind == "multi":
            return _("Choose one or more options and press «Done», or send their numbers separated by commas.")
        return None

    def reask(self, s: Session, problem: str) -> list[Outbound]:
        return [Outbound(problem, kind=NOTICE), self.ask(s)]

    # -- answering ----------------------------------------------------------------------------------------------
    def on_text(self, s: Session, text: str) -> list[Outbound]:
        _ = gettext_for(s.language)
        q = self.survey.question(s.node)
        text = text.strip()
        if s.awaiting_other:
            if not text:
                return self.reask(s, _("Please type your answer in a message."))
            if len(text) > OTHER_TEXT_LIMIT:
                return self.reask(
                    s, _("That is too long: please keep it under {limit} characters.").format(limit=OTHER_TEXT_LIMIT)
                )
            return self._record(s, q, tuple(s.picks), other=text)
        codes = self._codes_from_text(q, text, s.language)
        if isinstance(codes, str):
            return self.reask(s, codes)
        return self._choose(s, q, codes)

    def on_tap(self, s: Session, key: str) -> list[Outbound]:
        _ = gettext_for(s.language)
        q = self.survey.question(s.node)
        if key == BACK:
            return self.back(s)
        if q.kind == "multi" and key == DONE_KEY:
            problem = self._check_count(q, s.picks, s.language)
            return [Outbound(problem, kind=NOTICE)] if problem else self._choose(s, q, tuple(s.picks))
        if q.option(key) is None or s.awaiting_other:
            return [Outbound(_("That button is no longer active."), kind=NOTICE)]
        if q.kind != "multi":
            return self._choose(s, q, (key,))
        if key in s.picks:
            s.picks.remove(key)
        elif q.max and len(s.picks) >= q.max:
            return [Outbound(_("You can choose at most {max} options. Remove one first.").format(max=q.max), kind=NOTICE)]
        else:
            s.picks.append(key)
        return [self.ask(s, kind=EDIT)]

    def back(self, s: Session) -> list[Outbound]:
        _ = gettext_for(s.language)
        if s.awaiting_other:
            s.awaiting_other, s.picks = None, []
        elif s.history:
            s.node = s.history.pop()
            previous = s.answers.get(s.node)
            s.picks = list(previous.codes) if previous and self.survey.question(s.node).kind == "multi" else []
        else:
            return self.reask(s, _("This is the first question; there is nothing to go back to."))
        s.asked += 1
        return [self.ask(s)]

    # -- internals ----------------------------------------------------------------------------------------------
    def _codes_from_text(self, q: Question, text: str, language: str) -> tuple[str, ...] | str:
        """The option codes a typed answer names, or the problem to tell the user."""
        _ = gettext_for(language)
        count = len(q.options)
        by_label = {o.label(language).casefold(): o.code for o in q.options}
        if text.casefold() in by_label:
            return (by_label[text.casefold()],)
        if not _NUMBERS.match(text):
            return _("Please answer with the number of an option, from 1 to {count}.").format(count=count)
        numbers = [int(n) for n in re.findall(r"\d+", text)]
        if any(n < 1 or n > count for n in numbers):
            return _("There is no option with that number. Please choose from 1 to {count}.").format(count=count)
        if q.kind != "multi" and len(numbers) > 1:
            return _("Please choose just one option.")
        if len(set(numbers)) != len(numbers):
            return _("Each option can be chosen only once.")
        codes = tuple(q.options[n - 1].code for n in numbers)
        return self._check_count(q, codes, language) or codes

    def _check_count(self, q: Question, codes, language: str) -> str | None:
        _ = gettext_for(language)
        if q.max and len(codes) > q.max:
            return _("You can choose at most {max} options.").format(max=q.max)
        if len(codes) < q.min:
            return _("Please choose at least one option.")
        return None

    def _choose(self, s: Session, q: Question, codes: tuple[str, ...]) -> list[Outbound]:
        other = next((c for c in codes if q.option(c).other), None)
        if other:
            s.picks, s.awaiting_other = list(codes), other
            s.asked += 1
            return [self.ask(s)]
        return self._record(s, q, codes)

    def _record(self, s: Session, q: Question, codes: tuple[str, ...], other: str | None = None) -> list[Outbound]:
        s.answers[q.id] = Answer(codes, other)
        s.history.append(q.id)
        s.picks, s.awaiting_other = [], None
        following = self.survey.next_after(q.id, codes)
        s.asked += 1
        if following is not None:
            s.node = following.id
            return [self.ask(s)]
        # Answers left behind by a changed branch (q1 changed to "No" after Back) are not part of the response.
        on_path = set(self.survey.path({k: a.codes for k, a in s.answers.items()}))
        s.answers = {k: a for k, a in s.answers.items() if k in on_path}
        s.stage, s.node, s.history = DONE, None, []
        _ = gettext_for(s.language)
        return [Outbound(_("Thank you for taking part! Your answers have been saved."))]

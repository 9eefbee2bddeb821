"""The one state model: where a respondent is in the conversation, and what they have answered so far.

The conversations read and return it; storage keeps the cursor as JSON and the answers as rows.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields, replace

# Stages of the survey conversation.
NEW, CONSENT, SURVEY, DONE = "new", "consent", "survey", "done"
# Prompts laid over a stage; answering one returns to the stage underneath.
LANGUAGE, RESUME, FORGET_CONFIRM = "language", "resume", "forget"
# Side conversations (a complaint, an idea, browsing ideas) run beside the survey: leaving one returns to the
# survey where it stood. Their unfinished input lives in `draft`, so a break or a restart loses nothing.
COMPLAINT, IDEA, IDEAS = "complaint", "idea", "ideas"
# The short name of each flow in its prompts ("c.summary", "i.title", "b.page"): buttons carry it.
FLOW_PREFIX = {COMPLAINT: "c", IDEA: "i", IDEAS: "b"}


@dataclass(frozen=True)
class Answer:
    codes: tuple[str, ...]  # option codes; several for a multi-select
    other: str | None = None  # the free text of an "other, specify" option


@dataclass
class Session:
    language: str | None = None
    stage: str = NEW
    overlay: str | None = None
    node: str | None = None  # the question being asked
    picks: list[str] = field(default_factory=list)  # multi-select picks not yet submitted
    awaiting_other: str | None = None  # option code whose free text is being asked for
    history: list[str] = field(default_factory=list)  # answered questions, in order, for Back
    asked: int = 0  # bumps with every new prompt; buttons carry it, so stale taps are recognised
    response_id: str | None = None
    flow: str | None = None  # COMPLAINT, IDEA or IDEAS while one runs
    step: str | None = None  # where in the flow
    draft: dict = field(default_factory=dict)  # the flow's input so far: JSON values only
    answers: dict[str, Answer] = field(default_factory=dict)

    @property
    def token(self) -> str:
        return format(self.asked, "x")

    @property
    def prompt(self) -> str | None:
        """The id the current buttons answer: the overlay, the flow's step, the consent, or the question."""
        if self.overlay:
            return self.overlay
        if self.flow:
            return f"{FLOW_PREFIX.get(self.flow, self.flow)}.{self.step}"
        if self.stage == CONSENT:
            return "consent"
        return self.node if self.stage == SURVEY else None

    def copy(self) -> "Session":
        return replace(
            self, picks=list(self.picks), history=list(self.history), answers=dict(self.answers), draft=dict(self.draft)
        )

    def cursor(self) -> dict:
        """Everything but the answers, which storage keeps as rows of their own."""
        # Built by hand: dataclasses.asdict deep-copies the answers only for them to be thrown away.
        return {name: getattr(self, name) for name in _CURSOR_FIELDS}

    @classmethod
    def restore(cls, cursor: dict, answers: dict[str, Answer]) -> "Session":
        known = {k: v for k, v in cursor.items() if k in cls.__dataclass_fields__}
        return cls(**known, answers=dict(answers))


_CURSOR_FIELDS = tuple(f.name for f in fields(Session) if f.name != "answers")

"""The life of a complaint: submitted → acknowledged → in progress → resolved / rejected, and what Open311
calls each state (its status is only "open" or "closed")."""
from __future__ import annotations

from handlers.i18n import N_

SUBMITTED, ACKNOWLEDGED, IN_PROGRESS, RESOLVED, REJECTED = "submitted", "acknowledged", "in_progress", "resolved", "rejected"
STATES = (SUBMITTED, ACKNOWLEDGED, IN_PROGRESS, RESOLVED, REJECTED)
OPEN_STATES = (SUBMITTED, ACKNOWLEDGED, IN_PROGRESS)
CLOSED_STATES = (RESOLVED, REJECTED)

# Staff may move a complaint forward, or reopen a closed one into progress; never back to "submitted".
ALLOWED = {
    SUBMITTED: {ACKNOWLEDGED, IN_PROGRESS, RESOLVED, REJECTED},
    ACKNOWLEDGED: {IN_PROGRESS, RESOLVED, REJECTED},
    IN_PROGRESS: {RESOLVED, REJECTED},
    RESOLVED: {IN_PROGRESS},
    REJECTED: {IN_PROGRESS},
}

STATE_NAMES = {
    SUBMITTED: N_("Registered"),
    ACKNOWLEDGED: N_("Accepted"),
    IN_PROGRESS: N_("In progress"),
    RESOLVED: N_("Resolved"),
    REJECTED: N_("Rejected"),
}


class TransitionError(ValueError):
    """A refused change; `message` is an msgid with `params`, so staff read it in their language."""

    def __init__(self, message: str, **params):
        super().__init__(message.format(**params))
        self.message, self.params = message, params


UNKNOWN_STATE = N_("Unknown state {state}; use one of: {states}.")
NOT_ALLOWED = N_("A complaint cannot go from {current} to {new}.")
NEEDS_REASON = N_("A rejection needs a reason (--note), which the citizen will read.")


def check_transition(current: str, new: str, note: str | None) -> None:
    if new not in STATES:
        raise TransitionError(UNKNOWN_STATE, state=new, states=", ".join(STATES))
    if new not in ALLOWED[current]:
        raise TransitionError(NOT_ALLOWED, current=current, new=new)
    if new == REJECTED and not (note or "").strip():
        raise TransitionError(NEEDS_REASON)


def open311_status(state: str) -> str:
    return "closed" if state in CLOSED_STATES else "open"

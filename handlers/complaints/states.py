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
    pass


def check_transition(current: str, new: str, note: str | None) -> None:
    if new not in STATES:
        raise TransitionError(f"unknown state {new!r}; one of: {', '.join(STATES)}")
    if new not in ALLOWED[current]:
        raise TransitionError(f"a complaint cannot go from {current} to {new}")
    if new == REJECTED and not (note or "").strip():
        raise TransitionError("a rejection needs a reason (--note)")


def open311_status(state: str) -> str:
    return "closed" if state in CLOSED_STATES else "open"

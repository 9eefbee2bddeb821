"""Messages pushed to a citizen when something they filed or backed changes, rendered in their language.

Storage queues (kind, params); the bot process that runs the citizen's channel renders and sends them.
"""
from __future__ import annotations

from handlers.complaints.states import STATE_NAMES
from handlers.events import Outbound
from handlers.i18n import gettext_for


def render(kind: str, params: dict, language: str) -> Outbound:
    _ = gettext_for(language)
    if kind == "complaint_state":
        state = _(STATE_NAMES.get(params["state"], params["state"]))
        text = _("The status of report {number} has changed: {state}.").format(number=params["number"], state=state)
        if params.get("note"):
            text += "\n" + _("Comment from the city service: {note}").format(note=params["note"])
        return Outbound(text + "\n\n" + _("Details: /status {number}").format(number=params["number"]))
    if kind == "idea_approved":
        return Outbound(_("Your idea “{title}” was approved and is now open for support: /ideas").format(
            title=params["title"]))
    if kind == "idea_rejected":
        return Outbound(_("Your idea “{title}” was not approved. Reason: {reason}").format(
            title=params["title"], reason=params["reason"]))
    raise ValueError(f"unknown notification kind {kind!r}")

"""The complaint conversation: category → description → photo (optional) → place → a similar open report, if
any → summary → confirm, and /status.

Nothing is filed until the citizen confirms; the draft survives a break, a restart or a detour into the survey.
"""
from __future__ import annotations

import secrets
from datetime import timedelta

from handlers.complaints.numbers import new_number, normalise
from handlers.complaints.places import address_key
from handlers.complaints.privacy import mask
from handlers.complaints.records import ComplaintRecords, ComplaintView, FileComplaint, SupportComplaint
from handlers.complaints.states import STATE_NAMES
from handlers.events import Attachment, Choice, Location, Outbound, Reply
from handlers.flow import MAX_TEXT, MIN_TEXT, Flow
from handlers.session import COMPLAINT, Session

CATEGORY, DESCRIPTION, PHOTO, PLACE, SIMILAR, SUMMARY, EDIT = (
    "category", "description", "photo", "place", "similar", "summary", "edit")
ORDER = (CATEGORY, DESCRIPTION, PHOTO, PLACE)
MAX_ADDRESS = 300
SIMILAR_DAYS = 30


def card(view: ComplaintView, category: str, _, private: bool = False) -> str:
    """A complaint in a few lines. `private` adds the description, for its author only."""
    lines = [
        _("Report {number}").format(number=view.number),
        _("Category: {category}").format(category=category),
        _("Status: {state} (since {date})").format(state=_(STATE_NAMES[view.state]),
                                                 date=view.updated_at.strftime("%d.%m.%Y")),
    ]
    if view.address:
        lines.append(_("Address: {address}").format(address=mask(view.address)))
    if view.state_note:
        lines.append(_("Comment from the city service: {note}").format(note=view.state_note))
    if view.supporters:
        lines.append(_("Supported by: {count}").format(count=view.supporters))
    if private:
        lines.append(_("Your description: {text}").format(text=view.description))
    return "\n".join(lines)


class ComplaintFlow(Flow):
    name = COMPLAINT
    records: ComplaintRecords
    order = ORDER

    # -- entry points -------------------------------------------------------------------------------------------
    async def status(self, s: Session, argument: str, citizen: str) -> list[Outbound]:
        _ = self.gettext(s)
        if not argument.strip():
            mine = await self.records.of_citizen(citizen)
            if not mine:
                return [Outbound(_("You have no reports yet. To report a problem: /complaint"))]
            lines = [_("Your reports:")] + [
                f"• {v.number} — {self._category(s, v.service_code)} — {_(STATE_NAMES[v.state])}" for v in mine
            ]
            return [Outbound("\n".join(lines) + "\n\n" + _("Details: /status NUMBER"))]
        number = normalise(argument, self.deployment.country)
        example = _("A report number looks like {example}.").format(example=f"{self.deployment.country.upper()}-2026-1234-5678")
        if number is None:
            return [Outbound(_("That is not a report number.") + " " + example)]
        view = await self.records.find(number, citizen)
        if view is None:
            return [Outbound(_("No report with the number {number} was found.").format(number=number) + " " + example)]
        return [Outbound(card(view, self._category(s, view.service_code), _, private=view.mine))]

    # -- steps --------------------------------------------------------------------------------------------------
    def render(self, s: Session) -> list[Outbound]:
        _ = self.gettext(s)
        d = s.draft
        if s.step == CATEGORY:
            choices = [Choice(c.code, c.name(s.language or "ru"), picked=c.code == d.get("category"))
                       for c in self.deployment.categories]
            return [self.prompt(s, _("What is the problem about? Choose a category."), choices, back=False)]
        if s.step == DESCRIPTION:
            text = _("Describe the problem in a few sentences: what is wrong, and since when ({low}–{high} characters).")
            return [self.prompt(s, text.format(low=MIN_TEXT, high=f"{MAX_TEXT:,}".replace(",", " ")))]
        if s.step == PHOTO:
            text = _("Send a photo of the problem (up to 10 MB), or skip this step.")
            return [self.prompt(s, text, [Choice("skip", _("Skip"))])]
        if s.step == PLACE:
            city = self.deployment.name(s.language or "ru")
            text = _("Where is it? Share your location, or type the address in {city} (street and house number).")
            return [self.prompt(s, text.format(city=city), wants="location")]
        if s.step == SIMILAR:
            text = _("A similar report is already open nearby:") + "\n\n" + d["similar_card"] + "\n\n" + _(
                "You can support it instead of filing a new one: you will get its updates.")
            choices = [Choice("support", _("Support it")), Choice("new", _("File mine anyway"))]
            return [self.prompt(s, text, choices)]
        if s.step == SUMMARY:
            choices = [Choice("confirm", _("Send")), Choice("edit", _("Edit")), Choice("cancel", _("Cancel"))]
            return [Outbound(self._summary(s), tuple(choices), prompt=s.prompt, token=s.token, photo=d.get("photo"))]
        if s.step == EDIT:
            choices = [Choice(CATEGORY, _("Category")), Choice(DESCRIPTION, _("Description")),
                       Choice(PHOTO, _("Photo")), Choice(PLACE, _("Place"))]
            return [self.prompt(s, _("What do you want to change?"), choices)]
        return []

    def previous(self, s: Session) -> str | None:
        return PLACE if s.step == SIMILAR else super().previous(s)

    async def tapped(self, s: Session, key: str, citizen: str, reply: Reply) -> list[Outbound]:
        d = s.draft
        if s.step == CATEGORY and self.deployment.category(key):
            d["category"] = key
            return await self._next(s, citizen)
        if s.step == PHOTO and key == "skip":
            d["photo"] = None
            return await self._next(s, citizen)
        if s.step == SIMILAR and key in ("support", "new"):
            if key == "new":
                d["similar_declined"] = True
                return self.ask(s, SUMMARY)
            number = d["similar"]
            reply.effects.append(SupportComplaint(number))
            self.leave(s)
            _ = self.gettext(s)
            return [Outbound(_("Thank you. Your support was added to report {number}; we will send you its updates.")
                             .format(number=number))]
        reviewed = await self.review(s, key, lambda: self._file(s, citizen, reply))
        return reviewed if reviewed is not None else self.use_buttons(s)

    async def typed(self, s: Session, text: str, citizen: str, reply: Reply) -> list[Outbound]:
        _ = self.gettext(s)
        text = text.strip()
        if s.step == DESCRIPTION:
            if problem := self.description_problem(s, text):
                return self.notice(s, problem)
            s.draft["description"] = text
            return await self._next(s, citizen)
        if s.step == PLACE:
            if len(text) < 3 or len(text) > MAX_ADDRESS:
                return self.notice(s, _("Please type the street and house number, or share your location."))
            s.draft.update(address=text, latitude=None, longitude=None)
            return await self._next(s, citizen)
        if s.step == PHOTO:
            return self.notice(s, _("Please send a photo, or tap Skip."))
        return self.use_buttons(s)

    async def sent_file(self, s: Session, attachment: Attachment, caption: str, citizen: str,
                        reply: Reply) -> list[Outbound]:
        _ = self.gettext(s)
        if s.step not in (PHOTO, DESCRIPTION):
            return self.notice(s, _("A photo is not needed at this step."))
        if problem := self.photo_problem(s, attachment):
            return self.notice(s, problem + (" " + _("Or tap Skip.") if s.step == PHOTO else ""))
        s.draft["photo"] = attachment.stored
        if s.step == DESCRIPTION:  # a photo with a caption answers two questions at once
            caption = caption.strip()
            if MIN_TEXT <= len(caption) <= MAX_TEXT:
                s.draft["description"] = caption
                return await self._next(s, citizen)
            return self.notice(s, _("Photo saved. Now please describe the problem in words."))
        return await self._next(s, citizen)

    async def sent_location(self, s: Session, location: Location, citizen: str, reply: Reply) -> list[Outbound]:
        _ = self.gettext(s)
        if s.step != PLACE:
            return self.notice(s, _("A location is not needed at this step."))
        if not self.deployment.contains(location.latitude, location.longitude):
            city = self.deployment.name(s.language or "ru")
            return self.notice(s, _("This place is outside {city}. Share a location in the city, or type the "
                                    "address.").format(city=city))
        s.draft.update(latitude=location.latitude, longitude=location.longitude, address=None)
        return await self._next(s, citizen)

    # -- helpers ------------------------------------------------------------------------------------------------
    async def _next(self, s: Session, citizen: str) -> list[Outbound]:
        d = s.draft
        if d.get("editing"):
            return self.ask(s, SUMMARY)
        if s.step in ORDER[:-1]:
            return self.ask(s, ORDER[ORDER.index(s.step) + 1])
        similar = await self.records.nearby_open(
            d["category"], d.get("latitude"), d.get("longitude"), address_key(self._full_address(s)),
            self.clock() - timedelta(days=SIMILAR_DAYS), citizen,
        )
        similar = [v for v in similar if not v.mine and not v.supported]
        if similar and not d.get("similar_declined"):
            _ = self.gettext(s)
            d["similar"] = similar[0].number
            d["similar_card"] = card(similar[0], self._category(s, similar[0].service_code), _)
            return self.ask(s, SIMILAR)
        return self.ask(s, SUMMARY)

    async def _file(self, s: Session, citizen: str, reply: Reply) -> list[Outbound]:
        if problem := await self.refusal(s, citizen):
            return [Outbound(problem)]
        d = s.draft
        number = new_number(self.deployment.country, self.clock().year)
        while await self.records.find(number, citizen) is not None:  # 1 in 10^8 per report; cheap to rule out
            number = new_number(self.deployment.country, self.clock().year)
        address = self._full_address(s)
        reply.effects.append(FileComplaint(
            number=number, token=secrets.token_hex(8), service_code=d["category"], description=d["description"],
            photo=d.get("photo"), latitude=d.get("latitude"), longitude=d.get("longitude"), address=address,
            language=s.language or self.default_language,
        ))
        self.leave(s)
        _ = self.gettext(s)
        return [Outbound(_("Your report is registered. Its number is {number}. We will write to you here when its "
                           "status changes. To check it: /status {number}").format(number=number))]

    async def refusal(self, s: Session, citizen: str) -> str | None:
        limit = self.deployment.complaints_per_day
        if await self.records.filed_since(citizen, self.clock() - timedelta(days=1)) < limit:
            return None
        _ = self.gettext(s)
        return _("You have sent {limit} reports in the last 24 hours, the daily limit. Please try again tomorrow."
                 ).format(limit=limit)

    def _full_address(self, s: Session) -> str | None:
        """A typed address with the city added, as it is stored (and compared for duplicates)."""
        typed = s.draft.get("address")
        return f"{typed}, {self.deployment.name(s.language or 'ru')}" if typed else None

    def _summary(self, s: Session) -> str:
        _ = self.gettext(s)
        d = s.draft
        if d.get("latitude") is not None:
            place = _("location {latitude:.5f}, {longitude:.5f}").format(latitude=d["latitude"], longitude=d["longitude"])
        else:
            place = d.get("address") or ""
        lines = [
            _("Please check your report:"), "",
            _("Category: {category}").format(category=self._category(s, d.get("category"))),
            _("Description: {text}").format(text=d.get("description", "")),
            _("Photo: {photo}").format(photo=_("attached") if d.get("photo") else _("none")),
            _("Place: {place}").format(place=place), "",
            _("Send it to the city services?"),
        ]
        return "\n".join(lines)

    def _category(self, s: Session, code: str | None) -> str:
        category = self.deployment.category(code)
        return category.name(s.language or "ru") if category else (code or "")

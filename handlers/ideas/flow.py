"""Proposing a participatory-budget idea (/idea): title → description → district → category → photo (optional)
→ estimated cost (optional) → summary → confirm. The idea then waits for moderation, and the author is told so.

Ideas are taken while a budget cycle of the deployment is open, at most `ideas_per_cycle` per citizen. Nothing
is filed until the citizen confirms; the draft survives a break, a restart or a detour into the survey.
"""
from __future__ import annotations

import re

from handlers.events import Attachment, Choice, Outbound, Reply
from handlers.flow import MAX_TEXT, MIN_TEXT, Flow
from handlers.i18n import N_
from handlers.ideas.common import CURRENCY, day, district_named, grouped, money, short
from handlers.ideas.records import IdeaRecords, SubmitIdea
from handlers.session import IDEA, Session

TITLE, DESCRIPTION, DISTRICT, CATEGORY, PHOTO, COST, SUMMARY, EDIT = (
    "title", "description", "district", "category", "photo", "cost", "summary", "edit")
ORDER = (TITLE, DESCRIPTION, DISTRICT, CATEGORY, PHOTO, COST)
MIN_TITLE, MAX_TITLE = 5, 120
MAX_COST = 10**13
_COST = re.compile(r"^\d{1,3}(?:[ \u00a0\u202f.,']?\d{3})*$|^\d+$")
NOT_COLLECTING = N_("Ideas are not being collected now: no participatory-budget cycle is open.")
NEXT_CYCLE = N_("Ideas are not being collected now. The next participatory-budget cycle opens on {date}.")


def parse_cost(text: str) -> int | None:
    """A typed amount: digits, optionally grouped by thousands with spaces, dots, commas or apostrophes."""
    text = text.strip()
    for suffix in ("₸", "тг", "тенге", "теңге", "сом", "kgs", "kzt"):
        if text.casefold().endswith(suffix):
            text = text[: -len(suffix)].strip()
    if not _COST.match(text):
        return None
    value = int(re.sub(r"\D", "", text))
    return value if 0 < value <= MAX_COST else None


class IdeaFlow(Flow):
    name = IDEA
    records: IdeaRecords
    order = ORDER

    # -- entry points -------------------------------------------------------------------------------------------
    # -- steps --------------------------------------------------------------------------------------------------
    def render(self, s: Session) -> list[Outbound]:
        _ = self.gettext(s)
        d, language = s.draft, s.language or self.default_language
        if s.step == TITLE:
            text = _("What is your idea for the city? Give it a short title (up to {high} characters).")
            return [self.prompt(s, text.format(high=MAX_TITLE), back=False)]
        if s.step == DESCRIPTION:
            text = _("Describe the idea: what should be done, where, and who will benefit ({low}–{high} characters).")
            return [self.prompt(s, text.format(low=MIN_TEXT, high=grouped(MAX_TEXT)))]
        if s.step == DISTRICT:
            choices = [Choice(c.code, c.name(language), picked=c.code == d.get("district"))
                       for c in self.deployment.districts]
            text = _("Which district of {city} is the idea for?").format(city=self.deployment.name(language))
            return [self.prompt(s, text, choices)]
        if s.step == CATEGORY:
            choices = [Choice(c.code, c.name(language), picked=c.code == d.get("category"))
                       for c in self.deployment.categories if c.ideas]
            return [self.prompt(s, _("Choose the category that fits the idea best."), choices)]
        if s.step == PHOTO:
            text = _("Send a photo of the place or of a similar project (up to 10 MB), or skip this step.")
            return [self.prompt(s, text, [Choice("skip", _("Skip"))])]
        if s.step == COST:
            text = _("If you know it, type the estimated cost as a number, for example 5 000 000 ({currency}), "
                     "or skip this step.").format(currency=_(CURRENCY.get(self.deployment.country, CURRENCY["kz"])))
            return [self.prompt(s, text, [Choice("skip", _("Skip"))])]
        if s.step == SUMMARY:
            choices = [Choice("confirm", _("Send")), Choice("edit", _("Edit")), Choice("cancel", _("Cancel"))]
            return [Outbound(self._summary(s), tuple(choices), prompt=s.prompt, token=s.token, photo=d.get("photo"))]
        if s.step == EDIT:
            choices = [Choice(TITLE, _("Title")), Choice(DESCRIPTION, _("Description")),
                       Choice(DISTRICT, _("District")), Choice(CATEGORY, _("Category")),
                       Choice(PHOTO, _("Photo")), Choice(COST, _("Estimated cost"))]
            return [self.prompt(s, _("What do you want to change?"), choices)]
        return []

    async def tapped(self, s: Session, key: str, citizen: str, reply: Reply) -> list[Outbound]:
        d = s.draft
        if s.step == DISTRICT:
            if self.deployment.district(key) is None:
                return self._not_a_district(s, key)
            d["district"] = key
            return self._next(s)
        if s.step == CATEGORY:
            category = self.deployment.category(key)
            if category is None or not category.ideas:
                return self.use_buttons(s)
            d["category"] = key
            return self._next(s)
        if s.step in (PHOTO, COST) and key == "skip":
            d[s.step] = None
            return self._next(s)
        reviewed = await self.review(s, key, lambda: self._submit(s, citizen, reply))
        return reviewed if reviewed is not None else self.use_buttons(s)

    async def typed(self, s: Session, text: str, citizen: str, reply: Reply) -> list[Outbound]:
        _ = self.gettext(s)
        text = text.strip()
        if s.step == TITLE:
            title = " ".join(text.split())  # one line: it heads lists and buttons
            if not title:
                return self.notice(s, _("The title is empty. Please type a short title for your idea."))
            if len(title) < MIN_TITLE:
                return self.notice(s, _("The title is too short: please write at least {low} characters.")
                                   .format(low=MIN_TITLE))
            if len(title) > MAX_TITLE:
                return self.notice(s, _("The title is too long ({count} characters). Please shorten it to {high} "
                                        "characters.").format(count=grouped(len(title)), high=MAX_TITLE))
            s.draft["title"] = title
            return self._next(s)
        if s.step == DESCRIPTION:
            if problem := self.description_problem(s, text):
                return self.notice(s, problem)
            s.draft["description"] = text
            return self._next(s)
        if s.step == DISTRICT:
            district = district_named(self.deployment, text)
            if district is None:
                return self._not_a_district(s, text)
            s.draft["district"] = district.code
            return self._next(s)
        if s.step == PHOTO:
            return self.notice(s, _("Please send a photo, or tap Skip."))
        if s.step == COST:
            cost = parse_cost(text)
            if cost is None:
                return self.notice(s, _("Please type the cost as a number, for example 5 000 000, or tap Skip."))
            s.draft["cost"] = cost
            return self._next(s)
        return self.use_buttons(s)

    async def sent_file(self, s: Session, attachment: Attachment, caption: str, citizen: str,
                        reply: Reply) -> list[Outbound]:
        _ = self.gettext(s)
        if s.step != PHOTO:
            return self.notice(s, _("A photo is not needed at this step."))
        if problem := self.photo_problem(s, attachment):
            return self.notice(s, problem + " " + _("Or tap Skip."))
        s.draft["photo"] = attachment.stored
        return self._next(s)

    # -- helpers ------------------------------------------------------------------------------------------------
    def _next(self, s: Session) -> list[Outbound]:
        if s.draft.get("editing") or s.step == ORDER[-1]:
            return self.ask(s, SUMMARY)
        return self.ask(s, ORDER[ORDER.index(s.step) + 1])

    def _not_a_district(self, s: Session, text: str) -> list[Outbound]:
        _ = self.gettext(s)
        city = self.deployment.name(s.language or self.default_language)
        return self.notice(s, _("“{text}” is not a district of {city}. Please choose a district from the list.")
                           .format(text=short(text, 60), city=city))

    async def refusal(self, s: Session, citizen: str) -> str | None:
        """Why no idea can be filed now (no open cycle, or the citizen's limit reached), or None."""
        _ = self.gettext(s)
        today = self.clock().date()
        cycle = self.deployment.cycle_on(today)
        if cycle is None:
            later = sorted(c.opens for c in self.deployment.cycles if c.opens > today)
            return _(NEXT_CYCLE).format(date=day(later[0])) if later else _(NOT_COLLECTING)
        limit = self.deployment.ideas_per_cycle
        if await self.records.submitted_in(citizen, cycle.id) >= limit:
            return _("You have already proposed {limit} ideas in this cycle, the limit. You can support other "
                     "citizens' ideas: /ideas").format(limit=limit)
        return None

    async def _submit(self, s: Session, citizen: str, reply: Reply) -> list[Outbound]:
        if problem := await self.refusal(s, citizen):
            self.leave(s)
            return [Outbound(problem)]
        d = s.draft
        cycle = self.deployment.cycle_on(self.clock().date())
        reply.effects.append(SubmitIdea(
            cycle=cycle.id, district=d["district"], category=d["category"], title=d["title"],
            description=d["description"], photo=d.get("photo"), cost=d.get("cost"),
            language=s.language or self.default_language, limit=self.deployment.ideas_per_cycle,
        ))
        self.leave(s)
        _ = self.gettext(s)
        return [Outbound(_("Thank you! Your idea “{title}” has been sent for moderation. Once it is approved, "
                           "other citizens can support it in /ideas. We will write to you here either way.")
                           .format(title=d["title"]))]

    def _summary(self, s: Session) -> str:
        _ = self.gettext(s)
        d, language = s.draft, s.language or self.default_language
        district = self.deployment.district(d.get("district"))
        category = self.deployment.category(d.get("category"))
        cost = money(d["cost"], self.deployment.country, _) if d.get("cost") else _("not given")
        lines = [
            _("Please check your idea:"), "",
            _("Title: {title}").format(title=d.get("title", "")),
            _("Description: {text}").format(text=d.get("description", "")),
            _("District: {district}").format(district=district.name(language) if district else ""),
            _("Category: {category}").format(category=category.name(language) if category else ""),
            _("Photo: {photo}").format(photo=_("attached") if d.get("photo") else _("none")),
            _("Estimated cost: {cost}").format(cost=cost), "",
            _("Send it for moderation?"),
        ]
        return "\n".join(lines)

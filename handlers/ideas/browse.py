"""Browsing and supporting ideas (/ideas): choose a district, then pages of its approved ideas, most supported
first, five at a time, each with a Support (or Withdraw) button while the cycle is open.

The page shown is read through the records port when it is opened or turned and kept in the draft (rendering is
synchronous). A tap is checked against that page and against storage again before any effect is asked for; the
effect itself is guarded in SQL (storage/ideas.py), so whatever gets past here still counts once at most.
After the cycle closes the pages show its results, and a support is refused with a message.
"""
from __future__ import annotations

from dataclasses import replace

from handlers.events import EDIT, NOTICE, Choice, Outbound, Reply
from handlers.flow import CANCEL, Flow
from handlers.ideas.common import day, district_named, money, short
from handlers.ideas.records import APPROVED, IdeaRecords, IdeaView, SupportIdea, WithdrawSupport
from handlers.session import IDEAS, Session

DISTRICT, PAGE = "district", "page"
PER_PAGE = 5
BUTTON_TITLE, SNIPPET = 40, 160


def _item(view: IdeaView) -> dict:
    return {"id": view.id, "title": view.title, "description": short(view.description, SNIPPET),
            "category": view.category, "cost": view.cost, "supports": view.supports, "mine": view.mine,
            "supported": view.supported}


class IdeaBrowser(Flow):
    name = IDEAS
    records: IdeaRecords

    # -- entry point --------------------------------------------------------------------------------------------
    async def start(self, s: Session, citizen: str) -> list[Outbound]:
        cycle = self.deployment.latest_cycle(self.clock().date())
        if cycle is None:
            if s.flow == IDEAS:
                self.leave(s)
            _ = self.gettext(s)
            return [Outbound(_("There are no ideas to support yet: no participatory-budget cycle has opened."))]
        if s.flow == IDEAS and s.step == PAGE and s.draft.get("cycle") == cycle.id:
            await self._load(s, citizen)  # the same page, with today's numbers
            return self.ask(s, PAGE)
        s.draft = {"cycle": cycle.id, "counts": await self.records.district_counts(cycle.id)}
        return self.ask(s, DISTRICT)

    # -- what is shown ------------------------------------------------------------------------------------------
    def render(self, s: Session) -> list[Outbound]:
        _ = self.gettext(s)
        d, language = s.draft, s.language or self.default_language
        cycle = self._cycle(s)
        if s.step == DISTRICT:
            counts = d.get("counts") or {}
            if self._open(s):
                text = _("Ideas for the city budget, cycle {cycle}: you can support ideas until {date}. Choose a "
                         "district (the number of ideas is in brackets).")
            else:
                text = _("Support for the ideas of cycle {cycle} closed on {date}. Here are the results. Choose a "
                         "district (the number of ideas is in brackets).")
            choices = [Choice(c.code, f"{c.name(language)} ({counts.get(c.code, 0)})", picked=c.code == d.get("district"))
                       for c in self.deployment.districts]
            return [self.prompt(s, text.format(cycle=cycle.id, date=day(cycle.closes)), choices, back=False)]
        if s.step == PAGE:
            return [self.prompt(s, self._page_text(s), self._page_choices(s))]
        return []

    def _page_text(self, s: Session) -> str:
        _ = self.gettext(s)
        d, language = s.draft, s.language or self.default_language
        district = self.deployment.district(d["district"])
        cycle = self._cycle(s)
        items, offset, total = d.get("items") or [], d.get("offset", 0), d.get("total", 0)
        name = district.name(language) if district else d["district"]
        if not items:
            lines = [_("There are no approved ideas in {district} yet. You can propose one: /idea").format(
                district=name)]
        else:
            lines = [_("{district}, cycle {cycle}: ideas {first}–{last} of {total}, the most supported first.").format(
                district=name, cycle=cycle.id, first=offset + 1, last=offset + len(items), total=total)]
            for number, item in enumerate(items, start=offset + 1):
                category = self.deployment.category(item["category"])
                details = [_("Supported by: {count}").format(count=item["supports"])]
                if category:
                    details.append(category.name(language))
                if item.get("cost"):
                    details.append(money(item["cost"], self.deployment.country, _))
                entry = [f"{number}. {item['title']}", "   " + " · ".join(details), "   " + item["description"]]
                if item["mine"]:
                    entry.append("   " + _("(your idea)"))
                elif item["supported"]:
                    entry.append("   " + _("✓ You support this idea."))
                lines += ["", *entry]
        if not self._open(s):
            lines += ["", _("Support for cycle {cycle} closed on {date}.").format(cycle=cycle.id,
                                                                                 date=day(cycle.closes))]
        return "\n".join(lines)

    def _page_choices(self, s: Session) -> list[Choice]:
        _ = self.gettext(s)
        d = s.draft
        items, offset, total = d.get("items") or [], d.get("offset", 0), d.get("total", 0)
        choices = []
        if self._open(s):
            for number, item in enumerate(items, start=offset + 1):
                title = short(item["title"], BUTTON_TITLE)
                if item["mine"]:
                    continue
                if item["supported"]:
                    choices.append(Choice(f"w{item['id']}", _("Withdraw support: {number}. {title}").format(
                        number=number, title=title)))
                else:
                    choices.append(Choice(f"s{item['id']}", _("Support: {number}. {title}").format(
                        number=number, title=title)))
        if offset > 0:
            choices.append(Choice("prev", _("‹ Previous")))
        if offset + len(items) < total:
            choices.append(Choice("next", _("Next ›")))
        choices.append(Choice("districts", _("Another district")))
        return choices

    def actions(self, s: Session, back: bool = True) -> tuple[Choice, ...]:
        _ = self.gettext(s)
        return ((Choice("back", _("Back")),) if back else ()) + (Choice(CANCEL, _("Close")),)

    def previous(self, s: Session) -> str | None:
        return DISTRICT if s.step == PAGE else None

    def back(self, s: Session) -> list[Outbound]:
        return self._edited(super().back(s))

    def cancel(self, s: Session) -> list[Outbound]:
        self.leave(s)  # nothing was being written: the menu that follows says what else can be done
        return []

    # -- taps and typing ----------------------------------------------------------------------------------------
    async def tapped(self, s: Session, key: str, citizen: str, reply: Reply) -> list[Outbound]:
        d = s.draft
        if s.step == DISTRICT:
            if self.deployment.district(key) is None:
                return self._not_a_district(s, key)
            d.update(district=key, offset=0)
            await self._load(s, citizen)
            return self._edited(self.ask(s, PAGE))
        if s.step != PAGE:
            return self.use_buttons(s)
        if key in ("next", "prev"):
            step = PER_PAGE if key == "next" else -PER_PAGE
            d["offset"] = max(0, d.get("offset", 0) + step)
            await self._load(s, citizen)
            return self._edited(self.ask(s, PAGE))
        if key == "districts":
            d["counts"] = await self.records.district_counts(d["cycle"])
            return self._edited(self.ask(s, DISTRICT))
        if key[:1] in ("s", "w") and key[1:].isdigit():
            return await self._support(s, int(key[1:]), key[0] == "s", citizen, reply)
        return self.use_buttons(s)

    async def typed(self, s: Session, text: str, citizen: str, reply: Reply) -> list[Outbound]:
        if s.step == DISTRICT:
            district = district_named(self.deployment, text)
            if district is None:
                return self._not_a_district(s, text)
            return await self.tapped(s, district.code, citizen, reply)
        return self.use_buttons(s)

    async def _support(self, s: Session, idea_id: int, support: bool, citizen: str,
                       reply: Reply) -> list[Outbound]:
        """A Support or Withdraw tap. Refusals are a notice only: the page and the draft stay as they were."""
        _ = self.gettext(s)
        d = s.draft
        item = next((i for i in d.get("items") or [] if i["id"] == idea_id), None)
        if not self._open(s):
            cycle = self._cycle(s)
            return self._refused(_("Support for cycle {cycle} closed on {date}. You can still see the results here.")
                                 .format(cycle=cycle.id, date=day(cycle.closes)))
        view = await self.records.find(idea_id, citizen)
        if view is None:
            return self._refused(_("There is no such idea. Nothing was changed."))
        if view.state != APPROVED or view.cycle != d["cycle"]:
            return self._refused(_("This idea is not open for support. Nothing was changed."))
        if item is None:
            return self._refused(_("That button is no longer active."))
        if view.mine:
            return self._refused(_("You cannot support your own idea."))
        if support and view.supported:
            item.update(supported=True, supports=view.supports)
            return [Outbound(_("You already support this idea. Each citizen can support an idea once."), kind=NOTICE),
                    *self._edited(self.render(s))]
        if not support and not view.supported:
            item.update(supported=False, supports=view.supports)
            return [Outbound(_("You do not support this idea, so there is nothing to withdraw."), kind=NOTICE),
                    *self._edited(self.render(s))]
        if support:
            reply.effects.append(SupportIdea(idea_id, d["cycle"]))
            item.update(supported=True, supports=view.supports + 1)
            done = _("Thank you! Your support for “{title}” is counted.")
        else:
            reply.effects.append(WithdrawSupport(idea_id, d["cycle"]))
            item.update(supported=False, supports=max(0, view.supports - 1))
            done = _("Your support for “{title}” was withdrawn.")
        return [Outbound(done.format(title=short(view.title, 60)), kind=NOTICE), *self._edited(self.render(s))]

    # -- helpers ------------------------------------------------------------------------------------------------
    async def _load(self, s: Session, citizen: str) -> None:
        d = s.draft
        views, total = await self.records.page(d["cycle"], d["district"], citizen, d.get("offset", 0), PER_PAGE)
        if not views and total and d.get("offset", 0) > 0:  # the page emptied meanwhile: show the last one
            d["offset"] = (total - 1) // PER_PAGE * PER_PAGE
            views, total = await self.records.page(d["cycle"], d["district"], citizen, d["offset"], PER_PAGE)
        d.update(items=[_item(v) for v in views], total=total)

    def _cycle(self, s: Session):
        wanted = s.draft.get("cycle")
        return next((c for c in self.deployment.cycles if c.id == wanted), None) or self.deployment.latest_cycle(
            self.clock().date())

    def _open(self, s: Session) -> bool:
        cycle = self._cycle(s)
        return cycle is not None and cycle.is_open(self.clock().date())

    def _not_a_district(self, s: Session, text: str) -> list[Outbound]:
        _ = self.gettext(s)
        city = self.deployment.name(s.language or self.default_language)
        return self.notice(s, _("“{text}” is not a district of {city}. Please choose a district from the list.")
                           .format(text=short(text, 60), city=city))

    @staticmethod
    def _refused(text: str) -> list[Outbound]:
        return [Outbound(text, kind=NOTICE)]

    @staticmethod
    def _edited(messages: list[Outbound]) -> list[Outbound]:
        """The page after a tap on it: edited in place where the channel can (Telegram), shown again elsewhere."""
        return [replace(m, kind=EDIT) for m in messages]

"""The "Contrats" page: the account's contracts as a table — tomorrow's consigne, its acknowledgment, the API
readiness and the next step of each contract — with counters, filters, a search, a sort and pages, all in the
query string; and the acknowledgment of several contracts at once (the ticked ones, every one of the page, or every
one of the filter after a review page), each acknowledgment naming its own contract and the version shown. Queries
do not grow with the number of contracts held."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.contrib import messages
from django.http import Http404, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views import View

from smartoa.accounts.models import Role
from smartoa.consignes.acknowledgments import day_states
from smartoa.consignes.deadlines import hlar_for
from smartoa.contracts.bulk import held_contracts
from smartoa.contracts.services import active_token_expiries
from smartoa.core.clock import now
from smartoa.core.formats import day_text, error_text, moment_text, number_text, time_text
from smartoa.domain.acknowledgment import DayAcknowledgment, Status
from smartoa.domain.calendar import local_day_of
from smartoa.domain.deadlines import is_open
from smartoa.domain.errors import NotFound, UserError
from smartoa.portal.acknowledging import acknowledge_shown
from smartoa.portal.daybar import day_bars
from smartoa.portal.listing import (
    API_FILTERS,
    FILTERS,
    SORTS,
    TO_ACKNOWLEDGE,
    Counts,
    Held,
    Listing,
    addresses_of,
    facts,
    page_of,
)

SHOWN_IDS = 10  # contract ids named in a summary message; the others are counted

STATE_CLASS = {
    Status.TO_DO: "todo",
    Status.VOIDED: "voided",
    Status.DONE: "done",
    Status.MISSED: "missed",
    Status.NOT_PUBLISHED: "muted",
}


def state_words(state: DayAcknowledgment) -> tuple[str, str]:
    """The acknowledgment state in words, short (the badge) and its detail (versions, who and when)."""
    v = {"v": state.version, "old": state.acknowledged_version}
    if state.status == Status.NOT_PUBLISHED:
        return _("Pas encore publiée"), ""
    if state.status == Status.TO_DO:
        return _("À acquiescer"), _("version %(v)s") % v
    if state.status == Status.VOIDED:
        return _("Modifiée : à acquiescer"), _("version %(v)s (la version %(old)s était acquiescée)") % v
    if state.status == Status.MISSED:
        return _("Non acquiescée (HLAR passée)"), _("version %(v)s") % v
    return _("Acquiescée"), _("version %(v)s, par %(by)s, le %(at)s") % {
        **v,
        "by": state.acknowledged_by,
        "at": moment_text(state.acknowledged_at),
    }


@dataclass(frozen=True)
class Readiness:
    """A contract's API access in words: its token, its addresses, and the next step to take (none: ready)."""

    token: str
    addresses: str
    next_step: str

    @classmethod
    def of(cls, expires: datetime | None, addresses: int, moment: datetime) -> Readiness:
        if expires is None:
            token = _("Sans jeton")
        elif expires <= moment:
            token = _("Jeton expiré le %(date)s") % {"date": day_text(expires)}
        else:
            token = _("Jeton valable jusqu'au %(date)s") % {"date": day_text(expires)}
        words = (
            ngettext("%(n)s adresse IP", "%(n)s adresses IP", addresses) % {"n": number_text(addresses)}
            if addresses
            else _("Aucune adresse IP")
        )
        if settings.PRODUCTION and not addresses:
            step = _("Déclarez une adresse IP")
        elif expires is None or expires <= moment:
            step = _("Générez un jeton")
        else:
            step = ""
        return cls(token, words, step)


@dataclass(frozen=True)
class Row:
    """One contract's row, ready to print (every text computed once here, not looked up by the template)."""

    contract_id: str
    label: str
    role: str
    summary: str  # tomorrow's consigne in words
    bar: SafeString  # and as a small bar
    state: str  # the badge's class
    state_text: str
    state_detail: str
    ack_value: str  # "contract_id:version" when it needs acknowledging now, "" otherwise
    api: Readiness

    @property
    def ack_label(self) -> str:
        return _("Acquiescer %(id)s") % {"id": self.contract_id}


def rows_of(found: list[Held], day: date, moment: datetime) -> list[Row]:
    """The rows of a page of contracts (from ``listing.page_of``): six queries, whatever their number."""
    pks = [r.pk for r in found]
    consignes, states = day_bars(day, pks), day_states(pks, day)
    expiries, addresses = active_token_expiries(pks), addresses_of(pks)
    rows = []
    for r in found:
        state = states[r.pk]
        text, detail = state_words(state)
        needs = state.status in TO_ACKNOWLEDGE and state.can_acknowledge
        rows.append(
            Row(
                r.contract_id,
                r.shown_name,
                str(Role.Kind(r.role).label),
                *consignes[r.pk],
                STATE_CLASS[state.status],
                text,
                detail,
                f"{r.contract_id}:{state.version}" if needs else "",
                Readiness.of(expiries.get(r.pk), len(addresses.get(r.pk, ())), moment),
            )
        )
    return rows


def tomorrow() -> date:
    return local_day_of(now()) + timedelta(days=1)


@dataclass(frozen=True)
class Day:
    """The delivery day the page is about, its HLAR and the platform's time."""

    day: date
    deadline: datetime
    moment: datetime

    @classmethod
    def tomorrow(cls) -> Day:
        day = tomorrow()
        return cls(day, hlar_for(day), now())

    @property
    def locked(self) -> bool:
        return not is_open(self.moment, self.deadline)

    @property
    def deadline_text(self) -> str:
        """``16:30`` when HLAR is today, else its date and time."""
        same_day = local_day_of(self.deadline) == local_day_of(self.moment)
        return time_text(self.deadline) if same_day else moment_text(self.deadline)

    def facts(self, user) -> list[Held]:
        """Every contract ``user`` holds, with its facts of the day (one query)."""
        return facts(user, self.day, moment=self.moment, locked=self.locked)


def filter_links(listing: Listing, found: Counts, locked: bool, keys=None) -> list[dict]:
    """The filters the page offers, each with its count and its link (the current one marked)."""
    return [
        {
            "label": f.label,
            "count": found.of(f.key),
            "query": listing.query(filter=f.key),
            "current": f.key == listing.filter,
        }
        for f in FILTERS
        if (keys is None or f.key in keys) and (f.shown(locked) or f.key == listing.filter)
    ]


class ContractsView(View):
    template = "portal/contracts/list.html"

    def get(self, request):
        when = Day.tomorrow()
        listing = Listing.of(request.GET)
        found = Counts(when.facts(request.user), listing.search)
        page = page_of(listing.rows(found.found), listing)
        rows = rows_of(page.rows, when.day, when.moment)
        page_acks = [r.ack_value for r in rows if r.ack_value]
        context = {
            "when": when,
            "day": when.day,
            "deadline": when.deadline,
            "listing": listing,
            "page": page,
            "rows": rows,
            "held": found.of("tous", searched=False),
            "to_acknowledge": found.of("a-acquiescer", searched=False),
            "voided": found.of("modifiees", searched=False),
            "missed": found.of("non-acquiescees", searched=False),
            "filters": filter_links(listing, found, when.locked),
            "sorts": [(key, label) for key, (label, _order) in SORTS.items()],
            "page_acks": " ".join(page_acks),
            "page_ack_count": len(page_acks),
            "filter_ack_count": found.of(listing.filter, states=TO_ACKNOWLEDGE),
            "return_query": listing.query(page=page.number),
            "clear_query": listing.query(search=""),
            "all_query": listing.query(page=1),
            "previous_query": listing.query(page=page.previous or 1),
            "next_query": listing.query(page=page.next or page.number),
            "sans_api_query": listing.query(page=1) if listing.filter in API_FILTERS[1:] and page.total else "",
            "production": settings.PRODUCTION,
            "nav": "contracts",
            "contract_url": reverse("portal:contract", args=["X"]).removesuffix("X/"),
        }
        return render(request, self.template, context)


def back_to(text: str) -> str:
    """The Contrats page with the listing of the query string ``text`` (rebuilt: only known parameters)."""
    query = Listing.of(QueryDict(text)).query()
    return reverse("portal:contracts") + (f"?{query}" if query else "")


def shown_versions(entries: list[str]) -> dict[str, str]:
    """``contract_id:version`` entries as {contract id: version}; ValueError for a malformed one."""
    shown = {}
    for entry in entries:
        contract_id, sep, version = entry.partition(":")
        if not sep or not version.isdigit() or len(version) > 9:
            raise ValueError(entry[:50])
        shown[contract_id] = version
    return shown


def named(ids: list[str]) -> str:
    """Contract ids for a message: all of them up to SHOWN_IDS, then how many others."""
    if len(ids) <= SHOWN_IDS:
        return ", ".join(ids)
    others = len(ids) - SHOWN_IDS
    return ngettext("%(ids)s et %(n)s autre", "%(ids)s et %(n)s autres", others) % {
        "ids": ", ".join(ids[:SHOWN_IDS]),
        "n": number_text(others),
    }


class AcknowledgeManyView(View):
    """Acknowledge several contracts' consignes of one day, each for the version the page showed: the ticked
    ones (``scope=selection``), or the list the page carried (``scope=page``: every one of the page; ``all``: the
    review page's list). A version changed meanwhile is refused for that contract only; a contract already
    acknowledged in the version shown is left as it is; a contract the account does not hold answers 404 before
    anything is done. The page then says how many were done, which were refused and why."""

    def post(self, request):
        back = back_to(request.POST.get("retour", ""))
        try:
            day = date.fromisoformat(request.POST.get("day", ""))
            scope = request.POST.get("scope", "selection")
            entries = request.POST.get("acks", "").split() if scope in ("page", "all") else request.POST.getlist("ack")
            shown = shown_versions(entries)
            if not shown:
                messages.warning(request, _("Cochez au moins un contrat à acquiescer."))
                return redirect(back)
            contracts = held_contracts(request.user, shown)
        except NotFound:
            raise Http404("no such contract") from None
        except (ValueError, UserError):
            messages.error(request, _("Sélection invalide : rechargez la page et recommencez."))
            return redirect(back)
        states = day_states([c.pk for c in contracts], day)
        done, already, refused = [], [], defaultdict(list)
        for contract in contracts:
            version, state = shown[contract.contract_id], states[contract.pk]
            if state.status == Status.DONE and str(state.version) == version:
                already.append(contract.contract_id)
                continue
            try:
                acknowledge_shown(request, contract, day, version)
            except UserError as exc:
                refused[error_text(exc, sentence=False)].append(contract.contract_id)  # quoted in a sentence
            else:
                done.append(contract.contract_id)
        self.tell(request, done, already, refused)
        return redirect(back)

    @staticmethod
    def tell(request, done: list[str], already: list[str], refused: dict[str, list[str]]) -> None:
        """The summary: how many were acknowledged, already were, and each reason of refusal with its contracts."""
        if done:
            messages.success(
                request,
                ngettext(
                    "Acquiescement enregistré pour %(n)s contrat : %(ids)s.",
                    "Acquiescements enregistrés pour %(n)s contrats : %(ids)s.",
                    len(done),
                )
                % {"n": number_text(len(done)), "ids": named(done)},
            )
        if already:
            messages.info(
                request,
                ngettext(
                    "%(n)s contrat était déjà acquiescé dans la version affichée : %(ids)s.",
                    "%(n)s contrats étaient déjà acquiescés dans la version affichée : %(ids)s.",
                    len(already),
                )
                % {"n": number_text(len(already)), "ids": named(already)},
            )
        for reason, ids in refused.items():
            messages.error(
                request,
                ngettext(
                    "Refusé pour %(n)s contrat (%(ids)s) : %(reason)s",
                    "Refusé pour %(n)s contrats (%(ids)s) : %(reason)s",
                    len(ids),
                )
                % {"n": number_text(len(ids)), "ids": named(ids), "reason": reason},
            )


class AcknowledgeAllView(View):
    """The review before acknowledging every contract of a filter that needs it, on every page: the list of
    contracts with the version and the consigne each acknowledgment will name, and one button."""

    template = "portal/contracts/acknowledge_all.html"

    def get(self, request):
        when = Day.tomorrow()
        listing = Listing.of(request.GET)
        found = listing.rows(when.facts(request.user), states=TO_ACKNOWLEDGE)
        consignes = day_bars(when.day, [r.pk for r in found])
        rows = [(r.contract_id, r.shown_name, r.version, consignes[r.pk][0]) for r in found]
        groups = Counter(text for *_ignored, text in rows).most_common()
        context = {
            "when": when,
            "day": when.day,
            "listing": listing,
            "rows": rows,
            "groups": groups,
            "acks": " ".join(f"{cid}:{version}" for cid, _name, version, _text in rows),
            "back_query": listing.query(page=1),
            "nav": "contracts",
        }
        return render(request, self.template, context)

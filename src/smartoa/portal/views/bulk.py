"""API access of several contracts at once (an aggregator declaring its address on forty contracts in one step):
the page listing the account's contracts with their addresses and token, filtered, searched and paged like the
Contrats page; one address added to or removed from the selected contracts (a removal after a confirmation page);
new tokens for them (after a confirmation page warning that the old ones stop at once), shown once with a CSV
download embedded in the page itself — plain tokens are never stored, not even in the session.

The selection is the ticked contracts, or every contract of the filter on every page (``scope=filter``); a
contract the account does not hold answers 404 and nothing changes. Every change goes through
``contracts.bulk``, which audits it per contract with the account and its address."""

from __future__ import annotations

import base64
import csv
import io
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views import View

from smartoa.contracts.bulk import (
    IssuedToken,
    add_address,
    contracts_with_address,
    held_contracts,
    issue_tokens,
    remove_address,
)
from smartoa.contracts.ips import InvalidAddress
from smartoa.contracts.models import Contract
from smartoa.contracts.services import active_token_expiries
from smartoa.core.addresses import client_ip
from smartoa.core.formats import number_text
from smartoa.domain.calendar import iso
from smartoa.domain.errors import NotFound, UserError
from smartoa.portal.listing import API_FILTERS, API_SORTS, SORTS, Counts, Held, Listing, addresses_of, page_of
from smartoa.portal.views.contracts import Day, Readiness, filter_links, named
from smartoa.web.messages import user_message

SHOWN_ADDRESSES = 3  # addresses written out in a row; the others are counted


def listing_of(params) -> Listing:
    return Listing.of(params, filters=API_FILTERS, sorts=API_SORTS)


def page_url(listing: Listing) -> str:
    query = listing.query(page=listing.page)
    return reverse("portal:bulk-access") + (f"?{query}" if query else "")


@dataclass(frozen=True)
class AccessRow:
    contract_id: str
    label: str
    addresses: list[str]
    more: int  # addresses not written out
    api: Readiness
    checked: bool

    @property
    def pick_label(self) -> str:
        return _("Sélectionner %(id)s") % {"id": self.contract_id}


def access_rows(found: list[Held], moment: datetime, selected: set[str]) -> list[AccessRow]:
    """The rows of a page of contracts with their addresses and token (two queries)."""
    pks = [r.pk for r in found]
    addresses, expiries = addresses_of(pks), active_token_expiries(pks)
    rows = []
    for r in found:
        mine = addresses.get(r.pk, [])
        rows.append(
            AccessRow(
                r.contract_id,
                r.shown_name,
                mine[:SHOWN_ADDRESSES],
                max(0, len(mine) - SHOWN_ADDRESSES),
                Readiness.of(expiries.get(r.pk), len(mine), moment),
                r.contract_id in selected,
            )
        )
    return rows


def access_page(request, listing: Listing, *, selected=(), address="", errors=None, scope="", status=200):
    """The API access page of the account's contracts (``selected``, ``address``, ``errors`` and ``scope``: a
    refused form shown again as it was sent)."""
    when = Day.tomorrow()
    found = Counts(when.facts(request.user), listing.search)
    page = page_of(listing.rows(found.found), listing)
    context = {
        "listing": listing,
        "page": page,
        "rows": access_rows(page.rows, when.moment, set(selected)),
        "held": found.of("tous", searched=False),
        "filters": filter_links(listing, found, when.locked, API_FILTERS),
        "sorts": [(key, SORTS[key][0]) for key in API_SORTS],
        "address": address,
        "errors": errors or {},
        "scope": scope,
        "clear_query": listing.query(search=""),
        "previous_query": listing.query(page=page.previous or 1),
        "next_query": listing.query(page=page.next or page.number),
        "production": settings.PRODUCTION,
        "nav": "contracts",
        "contract_url": reverse("portal:contract", args=["X"]).removesuffix("X/"),
    }
    return render(request, "portal/contracts/api.html", context, status=status)


class BulkAccessView(View):
    def get(self, request):
        return access_page(request, listing_of(request.GET))


def selection(request, listing: Listing) -> list[str]:
    """The contract ids the form selected: the confirmed list (``contracts``), every contract of the listing
    (``scope=filter``), or the ticked ones."""
    if "contracts" in request.POST:
        return request.POST["contracts"].split()
    if request.POST.get("scope") == "filter":
        return [r.contract_id for r in listing.rows(Day.tomorrow().facts(request.user))]
    return request.POST.getlist("contract")


def resolved(request, listing: Listing) -> list[Contract]:
    """The selected contracts, each held by the account (404 otherwise); InvalidInput when none is selected."""
    try:
        return held_contracts(request.user, selection(request, listing))
    except NotFound:
        raise Http404("no such contract") from None


def refused(request, listing: Listing, exc: UserError, address: str = "") -> HttpResponse:
    """The page again, as it was sent, with the refusal next to the field it is about."""
    field = "address" if isinstance(exc, InvalidAddress) else "selection"
    return access_page(
        request,
        listing,
        selected=request.POST.getlist("contract"),
        address=address,
        errors={field: user_message(exc)},
        scope=request.POST.get("scope", ""),
        status=400,
    )


def hidden_selection(listing: Listing, contracts: list[Contract]) -> dict:
    """What a confirmation page carries: the explicit list of contracts and the listing to go back to."""
    ids = [c.contract_id for c in contracts]
    return {"contracts": " ".join(ids), "ids_text": ", ".join(ids), "listing": listing, "back": page_url(listing)}


class BulkAddressView(View):
    """Add one address to the selected contracts, or remove it from them after a confirmation page."""

    def post(self, request):
        listing = listing_of(request.POST)
        address = request.POST.get("address", "").strip()[:100]
        remove = request.POST.get("action") == "remove"
        try:
            if remove and "confirm" not in request.POST:
                contracts = resolved(request, listing)
                change = contracts_with_address(contracts, address)
                context = {**hidden_selection(listing, contracts), "change": change, "nav": "contracts"}
                return render(request, "portal/contracts/address_remove.html", context)
            with transaction.atomic():
                act = remove_address if remove else add_address
                change = act(request.user, selection(request, listing), address, ip=client_ip(request))
        except NotFound:
            raise Http404("no such contract") from None
        except UserError as exc:
            return refused(request, listing, exc, address)
        self.tell(request, change, remove)
        return redirect(page_url(listing))

    @staticmethod
    def tell(request, change, remove: bool) -> None:
        n, m = len(change.changed), len(change.unchanged)
        values = {"ip": change.address, "n": number_text(n), "m": number_text(m)}
        if remove:
            done = ngettext(
                "Adresse %(ip)s retirée de %(n)s contrat : ses appels depuis cette adresse sont refusés.",
                "Adresse %(ip)s retirée de %(n)s contrats : leurs appels depuis cette adresse sont refusés.",
                n,
            )
            left = ngettext(
                "Elle n'était pas déclarée sur %(m)s contrat : %(ids)s.",
                "Elle n'était pas déclarée sur %(m)s contrats : %(ids)s.",
                m,
            )
        else:
            done = ngettext("Adresse %(ip)s ajoutée à %(n)s contrat.", "Adresse %(ip)s ajoutée à %(n)s contrats.", n)
            left = ngettext(
                "Elle était déjà déclarée sur %(m)s contrat : %(ids)s.",
                "Elle était déjà déclarée sur %(m)s contrats : %(ids)s.",
                m,
            )
        (messages.success if n else messages.info)(request, done % values)
        if m:
            messages.info(request, left % {**values, "ids": named(change.unchanged)})


def tokens_csv(tokens: list[IssuedToken]) -> bytes:
    """The new tokens as CSV for machines: contract id, token, expiry (ISO 8601)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["contract_id", "token", "expires_at"])
    writer.writerows((t.contract_id, t.plain, iso(t.expires_at)) for t in tokens)
    return out.getvalue().encode()


class BulkTokensView(View):
    """New tokens for the selected contracts: a confirmation page first (their current tokens stop at once), then
    the tokens, shown once, with their CSV file embedded in the page as a download. Never cached."""

    def post(self, request):
        listing = listing_of(request.POST)
        try:
            contracts = resolved(request, listing)
        except UserError as exc:
            return refused(request, listing, exc)
        if "confirm" not in request.POST:
            active = active_token_expiries([c.pk for c in contracts])
            replaced = [c.contract_id for c in contracts if c.pk in active]
            context = {**hidden_selection(listing, contracts), "count": len(contracts), "replaced": replaced}
            return render(request, "portal/contracts/tokens_confirm.html", {**context, "nav": "contracts"})
        with transaction.atomic():
            tokens = issue_tokens(request.user, [c.contract_id for c in contracts], ip=client_ip(request))
        data = base64.b64encode(tokens_csv(tokens)).decode()
        context = {
            "tokens": tokens,
            "csv_href": f"data:text/csv;charset=utf-8;base64,{data}",
            "csv_name": _("jetons-api-smartoa.csv"),
            "back": page_url(listing),
            "nav": "contracts",
        }
        response = render(request, "portal/contracts/tokens_shown.html", context)
        response["Cache-Control"] = "no-store"
        return response

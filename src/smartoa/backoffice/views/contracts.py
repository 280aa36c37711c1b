"""Contracts: the list (search, eligibility tomorrow with the reason, accounts and roles, token expiry, when its
machines were last seen), a contract's page with the Gestionnaire change, and the bulk import of the contracts
file with its dry run. Same services, checks and audit as ``smartoa contracts import`` and the admin's
operations."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from smartoa.accounts.models import Role
from smartoa.accounts.roles import CONTRACTS
from smartoa.backoffice import staging
from smartoa.backoffice.access import StaffView, actor, operator_write
from smartoa.backoffice.contact import last_seen
from smartoa.backoffice.forms import ContractSearchForm, ImportForm, ManagerForm
from smartoa.backoffice.queries import contract_rows, contracts_matching, manager_of, tomorrow
from smartoa.backoffice.tables import page_of, query_without
from smartoa.contracts.importing import import_contracts, parse_contracts_csv, plan_import
from smartoa.contracts.services import allowed_ips, assign_role, get_contract
from smartoa.core.formats import number_text
from smartoa.domain.errors import UserError
from smartoa.notifications.queries import webhook_log
from smartoa.notifications.services import webhook_of
from smartoa.web.messages import user_message

CONTRACTS_FILE = "contracts"


class ContractsView(StaffView):
    nav = "contracts"
    template = "backoffice/contracts/list.html"

    def get(self, request):
        form = ContractSearchForm(request.GET)
        search, eligible = "", None
        if form.is_valid():
            search = form.cleaned_data["q"]
            eligible = {"yes": True, "no": False}.get(form.cleaned_data["eligible"])
        day = tomorrow()
        page = page_of(request, contracts_matching(search, day=day, eligible=eligible))
        rows = contract_rows(page.object_list, day)
        seen = last_seen(row["contract"].pk for row in rows)
        for row in rows:
            row["seen"] = seen.get(row["contract"].pk)
        context = self.context(
            form=form,
            day=day,
            rows=rows,
            page=page,
            query=query_without(request, "page"),
        )
        return render(request, self.template, context)


class ContractView(StaffView):
    """One contract: eligibility, accounts, token, addresses, webhook and its deliveries; the Gestionnaire
    change."""

    nav = "contracts"
    permission = CONTRACTS
    template = "backoffice/contracts/detail.html"

    def get(self, request, contract_id):
        return self.page(request, contract_id, ManagerForm())

    def post(self, request, contract_id):
        contract = self.contract(contract_id)
        form = ManagerForm(request.POST)
        if not form.is_valid():
            return self.page(request, contract_id, form, status=400)
        email = form.cleaned_data["email"].lower()
        if manager_of(contract) == email:
            return self.page(
                request,
                contract_id,
                form,
                error=_("%(email)s est déjà le gestionnaire.") % {"email": email},
                status=400,
            )
        try:
            with operator_write(request):
                created = assign_role(contract, email, Role.Kind.MANAGER, actor=actor(request))
        except UserError as exc:
            return self.page(request, contract_id, form, error=user_message(exc), status=400)
        messages.success(
            request,
            _(
                "%(email)s est le gestionnaire de %(id)s. Le jeton API est révoqué, les adresses IP effacées, "
                "l'ancien gestionnaire n'a plus accès et les producteurs sont prévenus."
            )
            % {"email": email, "id": contract.contract_id},
        )
        if created:
            messages.success(request, _("Le compte a été créé et ses identifiants envoyés par e-mail."))
        return redirect("backoffice:contract", contract.contract_id)

    def contract(self, contract_id):
        try:
            return get_contract(contract_id)
        except UserError:
            raise Http404("no such contract") from None

    def page(self, request, contract_id, form, *, error: str = "", status: int = 200):
        contract = self.contract(contract_id)
        day = tomorrow()
        context = self.context(
            row=contract_rows([contract], day)[0],
            contract=contract,
            day=day,
            addresses=allowed_ips(contract),
            seen=last_seen([contract.pk]).get(contract.pk),
            webhook=webhook_of(contract),
            log=webhook_log(contract),
            form=form,
            error=error,
        )
        return render(request, self.template, context, status=status)


class ImportView(StaffView):
    """Step 1: the contracts file; a file with a bad line is refused here, every bad line named."""

    nav = "contracts"
    permission = CONTRACTS
    template = "backoffice/contracts/import.html"

    def get(self, request):
        return render(request, self.template, self.context(form=ImportForm()))

    def post(self, request):
        form = ImportForm(request.POST, request.FILES)
        error = ""
        if form.is_valid():
            text = form.cleaned_data["file"]
            try:
                parse_contracts_csv(text)
            except UserError as exc:
                error = user_message(exc)
            else:
                digest = staging.stage(CONTRACTS_FILE, request.user.pk, text)
                return redirect(f"{reverse('backoffice:contracts-import-preview')}?file={digest}")
        return render(request, self.template, self.context(form=form, error=error), status=400)


class ImportPreviewView(StaffView):
    """Step 2, the dry run: what the import would create, update and replace; nothing is written."""

    nav = "contracts"
    permission = CONTRACTS  # the page posts to ImportConfirmView
    template = "backoffice/contracts/import_preview.html"

    def get(self, request):
        return self.page(request, request.GET.get("file", ""))

    def page(self, request, digest: str, *, error: str = "", status: int = 200):
        try:
            rows = parse_contracts_csv(staging.staged(CONTRACTS_FILE, request.user.pk, digest))
        except UserError as exc:
            messages.error(request, user_message(exc))
            return redirect("backoffice:contracts-import")
        context = self.context(plan=plan_import(rows), rows=len(rows), digest=digest, error=error)
        return render(request, self.template, context, status=status)


class ImportConfirmView(ImportPreviewView):
    """Step 3: the import itself, all or nothing, if the dry run still says the same."""

    permission = CONTRACTS

    def get(self, request):
        return redirect("backoffice:contracts-import")

    def post(self, request):
        digest = request.POST.get("file", "")
        try:
            rows = parse_contracts_csv(staging.staged(CONTRACTS_FILE, request.user.pk, digest))
            staging.check_unchanged(request.POST.get("fingerprint", ""), plan_import(rows).fingerprint())
            with operator_write(request):
                summary = import_contracts(rows, actor=actor(request))
        except UserError as exc:
            return self.page(request, digest, error=user_message(exc), status=400)
        staging.discard(CONTRACTS_FILE, request.user.pk, digest)
        messages.success(
            request,
            _(
                "Import terminé. Contrats créés : %(created)s ; mis à jour : %(updated)s. Comptes créés : "
                "%(accounts)s (leurs identifiants leur sont envoyés par e-mail)."
            )
            % {
                "created": number_text(len(summary.created)),
                "updated": number_text(len(summary.updated)),
                "accounts": number_text(len(summary.accounts_created)),
            },
        )
        return redirect("backoffice:contracts")

"""One contract in a form, besides the contracts file: create it or edit its fields and its holder and manager
accounts (the file's checks, ``contracts.importing.check_contract``, and its write, ``save_contract``: the same
audit and e-mails), with a confirmation before a manager change; deactivate or reactivate it, the page saying
first what happens to its token and addresses (``contracts.services.set_active``)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from smartoa.accounts.models import Role
from smartoa.accounts.roles import CONTRACTS
from smartoa.backoffice.access import StaffView, actor, operator_write
from smartoa.contracts.importing import check_contract, plan_import, save_contract
from smartoa.contracts.models import Contract, PowerUnit, Sector
from smartoa.contracts.services import allowed_ips, get_contract, set_active, token_state, tokens_of
from smartoa.core.formats import error_text, number_text
from smartoa.domain.errors import UserError
from smartoa.web.messages import user_message


class ContractForm(forms.Form):
    """The fields of one line of the contracts file; ``check_contract`` checks them (its problems become the
    fields' errors)."""

    contract_id = forms.CharField(
        label=gettext_lazy("Identifiant du contrat"),
        max_length=32,
        help_text=gettext_lazy("3 à 32 lettres majuscules et chiffres, par exemple BOA00001."),
    )
    name = forms.CharField(label=gettext_lazy("Nom de l'installation"), max_length=200)
    network_id = forms.CharField(label=gettext_lazy("Identifiant réseau (facultatif)"), max_length=64, required=False)
    sector = forms.ChoiceField(label=gettext_lazy("Filière"), choices=Sector.choices)
    installed_power = forms.CharField(
        label=gettext_lazy("Puissance installée"),
        max_length=32,
        help_text=gettext_lazy("En MW ou MWc, 3 décimales au plus (12,5 ou 12.5)."),
    )
    power_unit = forms.ChoiceField(label=gettext_lazy("Unité"), choices=PowerUnit.choices)
    holder_email = forms.CharField(
        label=gettext_lazy("E-mail du producteur (titulaire)"),
        max_length=254,
        help_text=gettext_lazy("Un compte est créé, et ses identifiants envoyés par e-mail, si l'adresse n'en a pas."),
    )
    manager_email = forms.CharField(
        label=gettext_lazy("E-mail du gestionnaire (facultatif)"),
        max_length=254,
        required=False,
        help_text=gettext_lazy(
            "Un gestionnaire différent remplace l'actuel : le jeton API du contrat est révoqué et ses adresses IP "
            "effacées."
        ),
    )
    confirm_manager = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, contract: Contract | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.contract = contract
        self.row = None
        if contract is not None:
            del self.fields["contract_id"]  # an existing contract keeps its id

    def clean(self):
        data = super().clean()
        values = {name: str(data.get(name) or "").strip() for name in self.fields if name != "confirm_manager"}
        if self.contract is not None:
            values["contract_id"] = self.contract.contract_id
        if self.errors:
            return data
        self.row, problems = check_contract(values)
        for name, problem in problems.items():
            self.add_error(name if name in self.fields else None, error_text(problem, sentence=False))
        new = self.row is not None and self.contract is None
        if new and Contract.objects.filter(contract_id=self.row.contract_id).exists():
            self.add_error(
                "contract_id",
                _("Le contrat %(id)s existe déjà : modifiez-le depuis sa page.") % {"id": self.row.contract_id},
            )
        return data


def contract_or_404(contract_id: str) -> Contract:
    try:
        return get_contract(contract_id)
    except UserError:
        raise Http404("no such contract") from None


def initial_of(contract: Contract) -> dict:
    """The form's fields as the contract holds them (its first holder and its manager)."""
    roles = Role.objects.filter(contract=contract).select_related("user").order_by("pk")
    holder = next((r.user.email for r in roles if r.kind == Role.Kind.HOLDER), "")
    manager = next((r.user.email for r in roles if r.kind == Role.Kind.MANAGER), "")
    return {
        "name": contract.name,
        "network_id": contract.network_id,
        "sector": contract.sector,
        "installed_power": number_text(contract.installed_power),
        "power_unit": contract.power_unit,
        "holder_email": holder,
        "manager_email": manager,
    }


class ContractFormView(StaffView):
    """Create a contract (``contract_id`` None) or edit one."""

    nav = "contracts"
    permission = CONTRACTS
    template = "backoffice/contracts/form.html"

    def get(self, request, contract_id=None):
        contract = contract_or_404(contract_id) if contract_id else None
        initial = initial_of(contract) if contract else {"sector": Sector.PV, "power_unit": PowerUnit.MWC}
        return self.page(request, ContractForm(initial=initial, contract=contract))

    def post(self, request, contract_id=None):
        contract = contract_or_404(contract_id) if contract_id else None
        form = ContractForm(request.POST, contract=contract)
        if not form.is_valid():
            return self.page(request, form, status=400)
        plan = plan_import([form.row])
        if plan.managers_replaced and not form.cleaned_data["confirm_manager"]:
            return self.page(request, form, replaced=plan.managers_replaced[0])
        try:
            with operator_write(request):
                summary = save_contract(form.row, actor=actor(request))
        except UserError as exc:
            return self.page(request, form, error=user_message(exc), status=400)
        if summary.created:
            messages.success(request, _("Contrat %(id)s créé.") % {"id": form.row.contract_id})
        else:
            messages.success(request, _("Contrat %(id)s enregistré.") % {"id": form.row.contract_id})
        if summary.accounts_created:
            messages.success(
                request,
                _("Compte créé pour %(emails)s ; ses identifiants lui sont envoyés par e-mail.")
                % {"emails": ", ".join(summary.accounts_created)},
            )
        return redirect("backoffice:contract", form.row.contract_id)

    def page(self, request, form, *, replaced=None, error: str = "", status: int = 200):
        if replaced is not None:
            form.data = form.data.copy()
            form.data["confirm_manager"] = "on"
        context = self.context(form=form, contract=form.contract, replaced=replaced, error=error)
        return render(request, self.template, context, status=status)


class ActiveView(StaffView):
    """Deactivate (or reactivate) a contract: what happens, then the confirmation."""

    nav = "contracts"
    permission = CONTRACTS
    template = "backoffice/contracts/active.html"

    def get(self, request, contract_id):
        contract = contract_or_404(contract_id)
        tokens = [t for t in tokens_of(contract) if token_state(t) == "active"]
        context = self.context(contract=contract, token=tokens[0] if tokens else None, addresses=allowed_ips(contract))
        return render(request, self.template, context)

    def post(self, request, contract_id):
        contract = contract_or_404(contract_id)
        wanted = request.POST.get("active")
        if wanted not in ("0", "1"):
            messages.error(request, _("Choisissez de désactiver ou de réactiver le contrat."))
            return redirect("backoffice:contract-active", contract.contract_id)
        active = wanted == "1"
        with operator_write(request):
            changed = set_active(contract, active, actor=actor(request))
        if not changed:
            messages.info(request, _("Rien n'a changé : le contrat était déjà dans cet état."))
        elif active:
            messages.success(request, _("Contrat %(id)s réactivé.") % {"id": contract.contract_id})
        else:
            messages.success(
                request,
                _(
                    "Contrat %(id)s désactivé : il ne recevra plus de consignes, son jeton API est révoqué et ses "
                    "adresses IP effacées."
                )
                % {"id": contract.contract_id},
            )
        return redirect("backoffice:contract", contract.contract_id)

"""Compliance results in the admin (read-only); compliance runs and compensation inputs are service-backed
operations."""

from django import forms
from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from smartoa.billing.compensation import DEFAULT_RULE, RULES
from smartoa.billing.models import (
    CompensationInput,
    ComplianceRequest,
    ComplianceRun,
    ContractCurves,
    ContractMonth,
    EpisodeResult,
)
from smartoa.billing.requests import run_now
from smartoa.billing.services import record_compensation_input
from smartoa.contracts.services import get_contract
from smartoa.core.admin import Operation, ReadOnlyAdmin, actor_of
from smartoa.core.clock import now
from smartoa.core.formats import month_text, number_text
from smartoa.core.links import curve_link
from smartoa.core.permissions import COMPLIANCE
from smartoa.domain.calendar import local_day_of
from smartoa.domain.curves import parse_month
from smartoa.metering.models import CurveImport, CurveKind


class MonthForm(forms.Form):
    month = forms.CharField(label=_("Mois (AAAA-MM)"), max_length=7)


class RunCompliance(Operation):
    name, label, form_class, on_object = "run", _("Calculer la conformité d'un mois"), MonthForm, False
    permission = COMPLIANCE
    help_text = _("Recalcule le mois pour tous les contrats ayant une consigne ; remplace les résultats du mois.")

    def perform(self, request, obj, form):
        run = run_now(parse_month(form.cleaned_data["month"]), actor=actor_of(request)).run
        return _("Conformité de %(month)s calculée : contrats : %(contracts)s ; épisodes d'arrêt : %(episodes)s.") % {
            "month": month_text(run.month),
            "contracts": number_text(run.contracts),
            "episodes": number_text(run.episodes),
        }


@admin.register(ContractCurves)
class ContractCurvesAdmin(ReadOnlyAdmin):
    """Entry point from the admin to each contract's curve and compliance page."""

    list_display = ("contract_id", "name", "sector", "installed_power", "month_link", "upload_link")
    search_fields = ("contract_id", "name", "network_id")
    list_filter = ("sector",)

    @admin.display(description=_("courbe et conformité"))
    def month_link(self, obj):
        return curve_link(obj.contract_id, local_day_of(now()), _("voir le mois"))

    @admin.display(description=_("import"))
    def upload_link(self, obj):
        return format_html('<a href="{}">{}</a>', reverse("backoffice:curve-upload"), _("importer des courbes"))


@admin.register(ComplianceRun)
class ComplianceRunAdmin(ReadOnlyAdmin):
    operations = (RunCompliance(),)
    list_display = (
        "month",
        "started_at",
        "finished_at",
        "actor",
        "contracts",
        "episodes",
        "tolerance_kwh",
        "tolerance_percent",
    )
    date_hierarchy = "month"


@admin.register(ComplianceRequest)
class ComplianceRequestAdmin(ReadOnlyAdmin):
    """The runs asked for (back office, command line, operation): their state, progress and outcome."""

    list_display = ("month", "state", "requested_by", "requested_at", "started_at", "finished_at", "done", "total")
    list_filter = ("state",)
    date_hierarchy = "requested_at"


@admin.register(ContractMonth)
class ContractMonthAdmin(ReadOnlyAdmin):
    list_display = (
        "contract",
        "month",
        "episodes",
        "checked_steps",
        "breach_steps",
        "missing_steps",
        "energy_during_stop_kwh",
        "chart",
    )
    list_filter = ("month",)
    search_fields = ("contract__contract_id",)
    list_select_related = ("contract",)

    @admin.display(description=_("graphique"))
    def chart(self, obj):
        return curve_link(obj.contract.contract_id, obj.month, _("voir"))


@admin.register(EpisodeResult)
class EpisodeResultAdmin(ReadOnlyAdmin):
    list_display = (
        "contract",
        "start",
        "end",
        "checked_steps",
        "breach_steps",
        "missing_steps",
        "energy_during_stop_kwh",
    )
    list_filter = ("month",)
    search_fields = ("contract__contract_id",)
    list_select_related = ("contract",)


class CompensationForm(forms.Form):
    contract_id = forms.CharField(label=_("Contrat"), max_length=32)
    month = forms.CharField(label=_("Mois (AAAA-MM)"), max_length=7)
    price_eur_per_mwh = forms.DecimalField(label=_("Prix (€/MWh)"), max_digits=10, decimal_places=3, required=False)
    producible_import = forms.ModelChoiceField(
        label=_("Productible estimé (import)"),
        queryset=CurveImport.objects.filter(kind=CurveKind.PRODUCIBLE),
        required=False,
    )
    rule = forms.ChoiceField(label=_("Règle"), choices=[(name, name) for name in RULES], initial=DEFAULT_RULE)
    note = forms.CharField(label=_("Note"), widget=forms.Textarea(attrs={"rows": 2}), required=False)


class RecordCompensation(Operation):
    name, label, form_class, on_object = "record", _("Enregistrer des entrées de compensation"), CompensationForm, False
    permission = COMPLIANCE
    help_text = _("Remplace les entrées du contrat pour ce mois ; elles servent au prochain calcul de conformité.")

    def perform(self, request, obj, form):
        data = form.cleaned_data
        contract = get_contract(data["contract_id"])
        record_compensation_input(
            contract,
            parse_month(data["month"]),
            price=data["price_eur_per_mwh"],
            producible=data["producible_import"],
            rule=data["rule"],
            note=data["note"],
            actor=actor_of(request),
        )
        return _("Entrées enregistrées : relancez le calcul de conformité du mois.")


@admin.register(CompensationInput)
class CompensationInputAdmin(ReadOnlyAdmin):
    list_display = ("contract", "month", "rule", "price_eur_per_mwh", "producible_import", "recorded_at", "recorded_by")
    search_fields = ("contract__contract_id",)
    list_select_related = ("contract", "producible_import")
    operations = (RecordCompensation(),)

"""Consignes in the admin: read-only lists (versions and acknowledgments can never be changed or deleted by
anyone); publication, incident modification and HLAR are service-backed operations, as on the command line."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from smartoa.consignes.deadlines import parse_hhmm, set_hlar
from smartoa.consignes.models import Acknowledgment, Consigne, ConsigneVersion, HlarOverride
from smartoa.consignes.rules import forced
from smartoa.consignes.services import load_documents, modify, publish
from smartoa.core.admin import Operation, ReadOnlyAdmin, ReadOnlyInline, actor_of
from smartoa.core.formats import day_text, moment_text, number_text
from smartoa.core.permissions import HLAR, PUBLISH
from smartoa.domain.calendar import parse_day


class VersionInline(ReadOnlyInline):
    model = ConsigneVersion
    fk_name = "consigne"
    fields = ("number", "created_at", "created_by", "reason", "has_stop")
    readonly_fields = fields


class DocumentsForm(forms.Form):
    file = forms.FileField(label=_("Consignes (JSON, un document ou une liste, au format de l'API)"))

    def clean_file(self):
        try:
            return self.cleaned_data["file"].read().decode("utf-8")
        except UnicodeDecodeError:
            raise forms.ValidationError(_("Le fichier doit être encodé en UTF-8.")) from None


class ForceFields(forms.Form):
    force = forms.BooleanField(
        label=_("Forcer, même après la limite du jour ou pour un contrat inactif ou non éligible"), required=False
    )
    reason = forms.CharField(label=_("Motif (obligatoire pour forcer)"), required=False, max_length=1000)

    def forced(self):
        return forced(self.cleaned_data["force"], self.cleaned_data["reason"])


class PublishForm(ForceFields, DocumentsForm):
    pass


class ModifyForm(DocumentsForm):
    reason = forms.CharField(label=_("Motif de la modification"), widget=forms.Textarea(attrs={"rows": 3}))
    force = forms.BooleanField(
        label=_("Forcer, même après la limite du jour ou pour un contrat inactif ou non éligible (le motif ci-dessus)"),
        required=False,
    )


class Publish(Operation):
    name, label, form_class, on_object = "publish", _("Publier des consignes (JSON)"), PublishForm, False
    permission = PUBLISH
    help_text = _("Tout ou rien : une consigne invalide ou déjà publiée refuse tout le fichier.")

    def perform(self, request, obj, form):
        published = publish(load_documents(form.cleaned_data["file"]), actor=actor_of(request), force=form.forced())
        n = len(published)
        return ngettext("%(n)s consigne publiée.", "%(n)s consignes publiées.", n) % {"n": number_text(n)}


class Modify(Operation):
    name, label, form_class, on_object = "modify", _("Modification sur incident (JSON)"), ModifyForm, False
    permission = PUBLISH
    help_text = _(
        "Crée une nouvelle version de chaque consigne, jusqu'à HLAR − 30 min ; les acquiescements précédents "
        "sont annulés et les comptes prévenus."
    )

    def perform(self, request, obj, form):
        documents = load_documents(form.cleaned_data["file"], action="changed")
        data = form.cleaned_data
        versions = modify(
            documents, reason=data["reason"], actor=actor_of(request), force=forced(data["force"], data["reason"])
        )
        n = len(versions)
        return ngettext("%(n)s consigne modifiée.", "%(n)s consignes modifiées.", n) % {"n": number_text(n)}


@admin.register(Consigne)
class ConsigneAdmin(ReadOnlyAdmin):
    list_display = ("contract", "delivery_day", "current_version")
    list_filter = ("delivery_day",)
    search_fields = ("contract__contract_id",)
    list_select_related = ("contract", "current_version")
    inlines = [VersionInline]
    operations = (Publish(), Modify())


@admin.register(ConsigneVersion)
class ConsigneVersionAdmin(ReadOnlyAdmin):
    list_display = ("consigne", "number", "created_at", "created_by", "has_stop")
    list_filter = ("delivery_day", "has_stop")
    search_fields = ("contract__contract_id",)
    list_select_related = ("consigne", "consigne__contract")


@admin.register(Acknowledgment)
class AcknowledgmentAdmin(ReadOnlyAdmin):
    list_display = ("consigne", "version", "acknowledged_at", "channel", "actor", "ip")
    list_filter = ("channel",)
    search_fields = ("consigne__contract__contract_id", "actor")
    list_select_related = ("consigne", "consigne__contract", "version", "version__consigne")


class HlarForm(forms.Form):
    day = forms.CharField(label=_("Jour de livraison J (AAAA-MM-JJ)"), max_length=10)
    time = forms.CharField(label=_("HLAR, heure locale la veille (HH:MM)"), max_length=5)
    confirm_earlier = forms.BooleanField(
        label=_("Confirmer l'avancement de l'HLAR (modifications et acquiescements fermés plus tôt)"), required=False
    )
    force = forms.BooleanField(label=_("Forcer même si l'HLAR actuelle ou la nouvelle est passée"), required=False)
    reason = forms.CharField(label=_("Motif (obligatoire pour forcer)"), required=False, max_length=1000)


class SetHlar(Operation):
    name, label, form_class, on_object = "set", _("Fixer l'HLAR d'un jour"), HlarForm, False
    permission = HLAR
    help_text = _(
        "Déplace aussi la limite des modifications (HLAR − 30 min) et des acquiescements, et prévient les "
        "producteurs. L'avancer demande une confirmation."
    )

    def perform(self, request, obj, form):
        day, at = parse_day(form.cleaned_data["day"]), parse_hhmm(form.cleaned_data["time"])
        data = form.cleaned_data
        _previous, new = set_hlar(
            day,
            at,
            actor=actor_of(request),
            confirm_earlier=data["confirm_earlier"],
            force=forced(data["force"], data["reason"]),
        )
        return _("HLAR du %(day)s : %(hlar)s.") % {"day": day_text(day), "hlar": moment_text(new)}


@admin.register(HlarOverride)
class HlarOverrideAdmin(ReadOnlyAdmin):
    list_display = ("delivery_day", "hlar_at", "set_at", "set_by")
    operations = (SetHlar(),)

"""Forms of the back-office pages. Each only collects and shapes the input; the services check it."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from smartoa.accounts import roles
from smartoa.audit.labels import label as code_label
from smartoa.domain.acknowledgment import Status
from smartoa.domain.calendar import FIRST_DAY, LAST_DAY
from smartoa.metering.models import CurveKind

DAY_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")  # the browser's date picker wants ISO
MAX_TEXT = 20_000_000


def handled_day(day) -> None:
    """A day the platform handles (2000–2099)."""
    if not FIRST_DAY <= day <= LAST_DAY:
        raise forms.ValidationError(_("Choisissez une date entre 2000 et 2099."))


def day_field(label, *, required: bool = True) -> forms.DateField:
    return forms.DateField(label=label, widget=DAY_INPUT, required=required, validators=[handled_day])


def read_upload(upload) -> str:
    """An uploaded file's text (UTF-8, a byte-order mark allowed); ValidationError otherwise."""
    if upload.size > MAX_TEXT:
        raise forms.ValidationError(_("Le fichier est trop gros (20 Mo au plus)."))
    try:
        return upload.read().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise forms.ValidationError(_("Le fichier doit être encodé en UTF-8.")) from None


class TextFileField(forms.FileField):
    """A file field whose cleaned value is the file's text."""

    def clean(self, data, initial=None):
        upload = super().clean(data, initial)
        return read_upload(upload) if upload else upload


class CurveUploadForm(forms.Form):
    file = forms.FileField(label=_("Fichier CSV ou Parquet (contract_id,start,energy_kwh)"))
    kind = forms.ChoiceField(label=_("Type de courbe"), choices=CurveKind.choices, initial=CurveKind.REALISED)


# --- the control screen -----------------------------------------------------------------------------------


class BoardForm(forms.Form):
    day = day_field(_("Jour de livraison"), required=False)
    state = forms.ChoiceField(
        label=_("État"),
        required=False,
        choices=[
            ("", _("Tous")),
            (Status.MISSED.value, _("Non acquiescée, HLAR passée")),
            (Status.VOIDED.value, _("À acquiescer de nouveau (modifiée)")),
            (Status.TO_DO.value, _("À acquiescer")),
            (Status.NOT_PUBLISHED.value, _("Non publiée")),
            (Status.DONE.value, _("Acquiescée")),
        ],
    )


# --- publication ------------------------------------------------------------------------------------------


class PricesForm(forms.Form):
    day = day_field(_("Jour de livraison"))
    prices = TextFileField(
        label=_("Prix du jour par quart d'heure (CSV start,price)"),
        help_text=_(
            "Une ligne par quart d'heure du jour (96 ; 92 ou 100 aux changements d'heure), start en ISO 8601 "
            "avec le décalage de Paris, prix en €/MWh."
        ),
    )
    exclude = forms.CharField(
        label=_("Contrats à exclure (facultatif)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Identifiants séparés par des virgules ou un par ligne."),
    )


class ExclusionsForm(forms.Form):
    exclude = forms.CharField(
        label=_("Contrats à exclure"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Identifiants séparés par des virgules ou un par ligne ; l'aperçu est recalculé."),
    )


class ModifyForm(forms.Form):
    file = TextFileField(
        label=_("Consignes modifiées (JSON, un document ou une liste, au format de l'API)"),
        help_text=_("Chaque document remplace la consigne publiée de son contrat et de son jour."),
    )
    reason = forms.CharField(
        label=_("Motif de la modification"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=1000,
        help_text=_("Conservé avec la version et envoyé aux comptes des contrats."),
    )
    force = forms.BooleanField(
        label=_("Forcer, même après la limite du jour ou pour un contrat inactif ou non éligible (le motif ci-dessus)"),
        required=False,
    )


class HlarForm(forms.Form):
    day = day_field(_("Jour de livraison J"))
    time = forms.CharField(
        label=_("Nouvelle HLAR, heure de Paris la veille (HH:MM)"),
        max_length=5,
        widget=forms.TimeInput(attrs={"type": "time"}),
    )
    force = forms.BooleanField(
        label=_("Forcer, même si l'HLAR actuelle ou la nouvelle est déjà passée"),
        required=False,
        help_text=_("Rouvre ou verrouille le jour sans préavis pour les producteurs : à réserver aux cas prévus."),
    )
    reason = forms.CharField(
        label=_("Motif (obligatoire pour forcer)"),
        required=False,
        max_length=1000,
        help_text=_("Conservé dans le journal d'audit."),
    )
    confirm_earlier = forms.BooleanField(required=False, widget=forms.HiddenInput)


# --- contracts and accounts -------------------------------------------------------------------------------


class ContractSearchForm(forms.Form):
    q = forms.CharField(label=_("Rechercher"), required=False, help_text=_("Identifiant, nom, e-mail d'un compte"))
    eligible = forms.ChoiceField(
        label=_("Éligibilité demain"),
        required=False,
        choices=[("", _("Tous")), ("yes", _("Éligibles")), ("no", _("Non éligibles"))],
    )


class ImportForm(forms.Form):
    file = TextFileField(label=_("Fichier CSV des contrats"))


class AccountForm(forms.Form):
    """A new account: a producer's, or (for an operator allowed to manage operators) an operator's in a role."""

    email = forms.EmailField(label=_("Adresse e-mail (identifiant)"))
    full_name = forms.CharField(label=_("Nom (facultatif)"), max_length=200, required=False)
    role = forms.ChoiceField(
        label=_("Accès au back-office"),
        required=False,
        help_text=_("Lecture : tout voir ; Opérateur : publier et gérer ; Administrateur : aussi les opérateurs."),
    )

    def __init__(self, *args, with_role: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if with_role:
            self.fields["role"].choices = [("", _("Aucun (compte d'un producteur)")), *roles.choices()]
        else:
            del self.fields["role"]

    def clean_role(self):
        key = self.cleaned_data.get("role")
        return roles.role_named(key) if key else None


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Rôle"), choices=roles.choices, widget=forms.RadioSelect)
    reason = forms.CharField(label=_("Motif (facultatif, gardé au journal)"), max_length=200, required=False)

    def clean_role(self):
        return roles.role_named(self.cleaned_data["role"])


class AccountSearchForm(forms.Form):
    q = forms.CharField(label=_("Rechercher un compte"), required=False, help_text=_("E-mail ou nom"))


class ManagerForm(forms.Form):
    email = forms.EmailField(label=_("E-mail du nouveau gestionnaire"))
    confirm = forms.BooleanField(
        label=_("Je confirme : le jeton API sera révoqué et les adresses IP effacées"), required=True
    )


class ResetTotpForm(forms.Form):
    confirm = forms.BooleanField(
        label=_("J'ai vérifié l'identité de la personne (appel ou e-mail depuis l'adresse du compte)"), required=True
    )


# --- the audit log ----------------------------------------------------------------------------------------


class AuditFilterForm(forms.Form):
    contract = forms.CharField(label=_("Contrat"), required=False, max_length=32)
    account = forms.CharField(label=_("Compte (e-mail)"), required=False, max_length=254)
    action = forms.ChoiceField(label=_("Action"), required=False)
    start = day_field(_("Du"), required=False)
    end = day_field(_("Au (inclus)"), required=False)

    def __init__(self, *args, actions: list[str], families: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["action"].choices = [
            ("", _("Toutes")),
            (_("Familles"), [(f"{family}.*", f"{family}.*") for family in families]),
            (_("Actions"), [(action, f"{code_label(action)} ({action})") for action in actions]),
        ]

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end and end < start:
            raise forms.ValidationError(_("La fin précède le début."))
        return data

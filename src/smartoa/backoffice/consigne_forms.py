"""Forms of the consigne pages: a consignes file to publish, and an incident change to one published consigne —
its stop windows (start and end, Paris time, on the 5-minute grid; a formset that works without JavaScript, one
empty row to add a window) and the reason.

The forms only read the input (the windows into the day's schedule, ``domain.windows``); publication and
modification, their deadline and their other checks belong to ``consignes.services``."""

from __future__ import annotations

import hashlib
import json
from datetime import date

from django import forms
from django.utils.translation import gettext_lazy as _

from smartoa.backoffice.forms import TextFileField
from smartoa.domain.errors import UserError
from smartoa.domain.schedule import Period
from smartoa.domain.windows import MAX_WINDOWS, Window, clock_text, parse_clock, schedule_of, windows_of
from smartoa.web.messages import user_message

CLOCK_INPUT = {"inputmode": "numeric", "autocomplete": "off", "size": 11, "maxlength": 11, "placeholder": "HH:MM"}


class ConsignesFileForm(forms.Form):
    file = TextFileField(
        label=_("Fichier de consignes (JSON au format de l'API : un document ou une liste)"),
        help_text=_(
            "Chaque document couvre toute la journée de livraison de son contrat, au pas de 5 minutes, avec le "
            "décalage de Paris (docs/formats.md). Tout ou rien : un document refusé refuse tout le fichier."
        ),
    )
    exclude = forms.CharField(
        label=_("Contrats à exclure (facultatif)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Identifiants séparés par des virgules ou un par ligne."),
    )


class ChooseConsigneForm(forms.Form):
    """Which consigne to change: a contract and a delivery day."""

    contract = forms.CharField(label=_("Contrat"), max_length=32, widget=forms.TextInput(attrs={"size": 14}))
    day = forms.DateField(
        label=_("Jour de livraison"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )


class WindowForm(forms.Form):
    """One window: its start and end as the operator writes them; both empty (or "remove" ticked) is no window."""

    start = forms.CharField(label=_("Début"), required=False, max_length=20, widget=forms.TextInput(CLOCK_INPUT))
    end = forms.CharField(label=_("Fin"), required=False, max_length=20, widget=forms.TextInput(CLOCK_INPUT))
    value = forms.FloatField(
        label=_("Part arrêtée (0 à 1)"),
        required=False,
        min_value=0.05,
        max_value=1,
        widget=forms.NumberInput(attrs={"step": "0.05", "size": 5}),
    )

    def __init__(self, *args, day: date, fractions: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.day = day
        if not fractions:
            del self.fields["value"]

    def _moment(self, name: str):
        text = self.cleaned_data.get(name, "")
        if not text:
            return None
        try:
            return parse_clock(self.day, text)
        except UserError as exc:
            self.add_error(name, user_message(exc))
            return None

    def clean(self):
        data = super().clean()
        data["window"] = None
        if data.get("DELETE") or not (data.get("start") or data.get("end")):
            return data
        start, end = self._moment("start"), self._moment("end")
        for name in ("start", "end"):
            if not data.get(name) and name not in self.errors:
                self.add_error(name, _("Indiquez le début et la fin de la fenêtre (HH:MM)."))
        if start is not None and end is not None:
            data["window"] = Window(start, end, data.get("value") or 1.0)
        return data


class BaseWindowFormSet(forms.BaseFormSet):
    """The windows; ``schedule`` is the day's full schedule once the formset is valid."""

    def __init__(self, *args, day: date, fractions: bool, **kwargs):
        self.day, self.fractions = day, fractions
        super().__init__(*args, form_kwargs={"day": day, "fractions": fractions}, **kwargs)
        self.schedule: tuple[Period, ...] | None = None

    def clean(self):
        if any(self.errors):
            return
        windows = [f.cleaned_data["window"] for f in self.forms if f.cleaned_data.get("window") is not None]
        try:
            self.schedule = schedule_of(self.day, windows, allow_fractions=self.fractions)
        except UserError as exc:
            raise forms.ValidationError(user_message(exc)) from None


WindowFormSet = forms.formset_factory(
    WindowForm, formset=BaseWindowFormSet, extra=1, can_delete=True, max_num=MAX_WINDOWS, validate_max=True
)


def window_rows(day: date, periods: tuple[Period, ...]) -> list[dict]:
    """The formset's initial rows for a schedule: one per stop window, as ``parse_clock`` reads them."""
    return [
        {"start": clock_text(day, w.start), "end": clock_text(day, w.end), "value": w.value}
        for w in windows_of(periods)
    ]


def with_added_row(data) -> dict:
    """The posted formset with one more empty row (the "add a window" button, without JavaScript)."""
    added = data.copy()
    key = "windows-TOTAL_FORMS"
    try:
        total = int(added.get(key, "0"))
    except ValueError:
        total = 0
    added[key] = str(min(total + 1, MAX_WINDOWS))
    return added


class ReasonForm(forms.Form):
    """The reason of the change (the service requires one)."""

    reason = forms.CharField(
        label=_("Motif de la modification"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Obligatoire. Conservé avec la version et envoyé aux comptes du contrat."),
    )


def change_fingerprint(contract_id: str, day: date, number: int, periods: tuple[Period, ...]) -> str:
    """What a confirmation publishes: the new schedule over version ``number``; a preview and its confirmation
    must agree (another change published meanwhile changes ``number``)."""
    content = {
        "contract": contract_id,
        "day": day.isoformat(),
        "over": number,
        "periods": [p.as_json() for p in periods],
    }
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()

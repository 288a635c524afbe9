from django.db import migrations


class Migration(migrations.Migration):
    """DashboardExport moved to the dashboards app with its table: gone from
    this app's state only (dashboards 0001 takes it over)."""

    dependencies = [
        ("authorities", "0005_audit_trail"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="DashboardExport")],
            database_operations=[],
        ),
    ]

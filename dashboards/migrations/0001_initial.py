import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


def move_content_type(apps, schema_editor, old="authorities", new="dashboards"):
    """Permissions given on the model follow it: its content type changes
    app rather than a new one being made."""
    content_types = apps.get_model("contenttypes", "ContentType")
    content_types.objects.filter(app_label=old, model="dashboardexport").update(app_label=new)


def move_content_type_back(apps, schema_editor):
    move_content_type(apps, schema_editor, old="dashboards", new="authorities")


class Migration(migrations.Migration):
    """DashboardExport, moved here from authorities with its table
    (authorities_dashboardexport) and its rows: a change of state only."""

    initial = True

    dependencies = [
        ("authorities", "0006_dashboardexport_moved"),
        ("contenttypes", "0002_remove_content_type_name"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="DashboardExport",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        ("exported_by_email", models.EmailField(max_length=254)),
                        ("exported_at", models.DateTimeField(default=django.utils.timezone.now)),
                        (
                            "ip_address",
                            models.GenericIPAddressField(
                                blank=True, null=True, verbose_name="from address"
                            ),
                        ),
                        (
                            "format",
                            models.CharField(
                                choices=[("csv", "CSV"), ("xlsx", "Excel (XLSX)")], max_length=4
                            ),
                        ),
                        (
                            "filters",
                            models.JSONField(
                                blank=True,
                                default=dict,
                                help_text="The filters and sort as chosen on the page.",
                            ),
                        ),
                        (
                            "description",
                            models.CharField(
                                help_text="The filters in words, as the page states them.",
                                max_length=500,
                            ),
                        ),
                        (
                            "row_count",
                            models.PositiveIntegerField(verbose_name="authorities exported"),
                        ),
                        (
                            "small_numbers_withheld",
                            models.BooleanField(
                                default=True,
                                help_text="Whether feedback figures from fewer than 5 "
                                "submissions showed as “fewer than 5”.",
                            ),
                        ),
                        (
                            "exported_by",
                            models.ForeignKey(
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "db_table": "authorities_dashboardexport",
                        "ordering": ["-exported_at"],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(move_content_type, move_content_type_back),
    ]

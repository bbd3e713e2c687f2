"""Let the Secretariat send and approve campaigns; Translators get neither."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

SECRETARIAT = "Secretariat"
CODENAMES = ["send_campaign", "approve_campaign"]


def grant(apps, schema_editor):
    # Permissions are normally created after all migrations ran (post_migrate).
    app_config = apps.get_app_config("newsletter")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    secretariat, _ = Group.objects.get_or_create(name=SECRETARIAT)
    secretariat.permissions.add(
        *Permission.objects.filter(
            content_type__app_label="newsletter", codename__in=CODENAMES
        )
    )


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for group in Group.objects.filter(name=SECRETARIAT):
        group.permissions.remove(
            *Permission.objects.filter(
                content_type__app_label="newsletter", codename__in=CODENAMES
            )
        )


class Migration(migrations.Migration):
    dependencies = [
        ("newsletter", "0009_campaign_lists_segments_workflow"),
        ("newsletter", "0005_roles"),
    ]

    operations = [migrations.RunPython(grant, revoke)]

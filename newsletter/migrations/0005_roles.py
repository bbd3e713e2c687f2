"""Create the two admin roles: Secretariat and Translators.

The Secretariat keeps the directory, lists, segments and campaigns; it may read
(never edit) consent records and suppressions. Translators reach the admin but
hold no permission on any contact data at all: their translation rights are
granted separately.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

SECRETARIAT = "Secretariat"
TRANSLATORS = "Translators"

FULL = ("add", "change", "delete", "view")
SECRETARIAT_PERMISSIONS = {
    "contact": FULL,
    "mailinglist": FULL,
    "subscription": FULL,
    "topic": FULL,
    "segment": FULL,
    "campaign": FULL,
    "consentrecord": ("view",),
    "suppression": ("view",),
    "delivery": ("view",),
    "trackingevent": ("view",),
}


def _ensure_permissions(apps):
    # Permissions are normally created after all migrations ran (post_migrate);
    # create them now so that a fresh database gets complete groups.
    app_config = apps.get_app_config("newsletter")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None


def create_roles(apps, schema_editor):
    _ensure_permissions(apps)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")

    admin_access = Permission.objects.get(
        content_type__app_label="wagtailadmin", codename="access_admin"
    )

    secretariat, _ = Group.objects.get_or_create(name=SECRETARIAT)
    secretariat.permissions.add(admin_access)
    for model_name, actions in SECRETARIAT_PERMISSIONS.items():
        secretariat.permissions.add(
            *Permission.objects.filter(
                content_type__app_label="newsletter",
                content_type__model=model_name,
                codename__in=[f"{action}_{model_name}" for action in actions],
            )
        )

    translators, _ = Group.objects.get_or_create(name=TRANSLATORS)
    translators.permissions.add(admin_access)


def remove_roles(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Group.objects.filter(name__in=[SECRETARIAT, TRANSLATORS]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("newsletter", "0004_contact_preferences_token_unique"),
        ("wagtailadmin", "0001_create_admin_access_permissions"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]

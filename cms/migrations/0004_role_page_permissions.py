"""Page rights of the two roles.

Secretariat: add, change, publish and lock pages everywhere, and use images and
documents. Translators: change and publish pages everywhere and submit pages for
translation; cms/wagtail_hooks.py keeps them out of the source language.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

PAGE_RIGHTS = {
    "Secretariat": ("add_page", "change_page", "publish_page", "lock_page", "unlock_page"),
    "Translators": ("change_page", "publish_page"),
}


def _ensure_permissions(apps, *labels):
    # Permissions are created after all migrations (post_migrate); a fresh
    # database needs them now.
    for label in labels:
        app_config = apps.get_app_config(label)
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None


def grant(apps, schema_editor):
    _ensure_permissions(apps, "wagtailcore", "wagtailimages", "wagtaildocs", "wagtail_localize")
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    Page = apps.get_model("wagtailcore", "Page")
    GroupPagePermission = apps.get_model("wagtailcore", "GroupPagePermission")
    GroupCollectionPermission = apps.get_model("wagtailcore", "GroupCollectionPermission")
    Collection = apps.get_model("wagtailcore", "Collection")

    root = Page.objects.get(depth=1)
    root_collection = Collection.objects.get(depth=1)
    for name, codenames in PAGE_RIGHTS.items():
        group, _ = Group.objects.get_or_create(name=name)
        for codename in codenames:
            permission = Permission.objects.get(content_type__app_label="wagtailcore", codename=codename)
            GroupPagePermission.objects.get_or_create(group=group, page=root, permission=permission)
        media = ("choose_image", "choose_document")
        if name == "Secretariat":
            media += ("add_image", "change_image", "add_document", "change_document")
        for permission in Permission.objects.filter(
            content_type__app_label__in=["wagtailimages", "wagtaildocs"], codename__in=media
        ):
            GroupCollectionPermission.objects.get_or_create(
                group=group, collection=root_collection, permission=permission
            )
        group.permissions.add(
            Permission.objects.get(content_type__app_label="wagtailadmin", codename="access_admin"),
            Permission.objects.get(content_type__app_label="wagtail_localize", codename="submit_translation"),
        )


def revoke(apps, schema_editor):
    GroupPagePermission = apps.get_model("wagtailcore", "GroupPagePermission")
    GroupPagePermission.objects.filter(group__name__in=PAGE_RIGHTS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("cms", "0003_archive_event_report_back_pack"),
        ("wagtailcore", "0098_apitoken"),
        ("wagtailadmin", "0001_create_admin_access_permissions"),
        ("wagtailimages", "0027_image_description"),
        ("wagtaildocs", "0014_alter_document_file_size"),
        ("wagtail_localize", "0016_rename_page_revision_translationlog_revision"),
    ]

    operations = [migrations.RunPython(grant, revoke)]

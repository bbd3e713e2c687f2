import hashlib
import secrets
import unicodedata

from django.db import migrations


def fill(apps, schema_editor):
    Contact = apps.get_model("newsletter", "Contact")
    for contact in Contact.objects.all().only("pk", "email"):
        normalised = unicodedata.normalize("NFC", contact.email.strip()).lower()
        Contact.objects.filter(pk=contact.pk).update(
            preferences_token=secrets.token_urlsafe(16),
            address_hash=hashlib.sha256(normalised.encode("utf-8")).hexdigest(),
        )


class Migration(migrations.Migration):
    dependencies = [("newsletter", "0002_audience_consent_suppression_segments")]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]

# The ledger's unique (campaign, contact) constraint becomes (contact, campaign),
# and the plain index on the contact goes: the constraint's index now serves
# every lookup by contact, and lookups by campaign use the (campaign, status)
# index. One index less to write for every row version while a campaign sends.
# The new constraint is created before the old one goes, so uniqueness holds
# throughout.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("newsletter", "0012_delivery_drop_unused_indexes"),
    ]

    operations = [
        migrations.AddConstraint(
            model_name="delivery",
            constraint=models.UniqueConstraint(
                fields=("contact", "campaign"),
                name="uniq_delivery_per_contact_campaign",
            ),
        ),
        migrations.RemoveConstraint(
            model_name="delivery",
            name="uniq_delivery_per_campaign_contact",
        ),
        migrations.AlterField(
            model_name="delivery",
            name="contact",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="deliveries",
                to="newsletter.contact",
            ),
        ),
    ]

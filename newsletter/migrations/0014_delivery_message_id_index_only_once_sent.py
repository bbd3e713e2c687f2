# The index on the provider's message id keeps only rows that have one (handed
# over): the rows a campaign writes and claims before sending carry no entry,
# so two of every reader's three row versions no longer write to it. The
# webhooks look up non-empty message ids only (tracking.events._delivery_for).

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("newsletter", "0013_delivery_one_index_for_contact_and_campaign"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="delivery",
            name="delivery_provider_message_id",
        ),
        migrations.AddIndex(
            model_name="delivery",
            index=models.Index(
                condition=models.Q(("provider_message_id", ""), _negated=True),
                fields=["provider_message_id"],
                name="delivery_provider_message_id",
            ),
        ),
    ]

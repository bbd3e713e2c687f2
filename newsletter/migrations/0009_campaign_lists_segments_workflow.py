"""Campaigns go to lists and segments, are scheduled, paused, held and approved.

The single ``mailing_list`` of existing campaigns becomes their one list, and
drafts that had a time set become scheduled.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def lists_from_mailing_list(apps, schema_editor):
    Campaign = apps.get_model("newsletter", "Campaign")
    for campaign in Campaign.objects.only("pk", "mailing_list_id"):
        campaign.lists.add(campaign.mailing_list_id)
    Campaign.objects.filter(status="draft", scheduled_at__isnull=False).update(
        status="scheduled"
    )


class Migration(migrations.Migration):

    dependencies = [
        ('newsletter', '0008_tracking_links_daily_counts'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterModelOptions(
            name='campaign',
            options={'ordering': ['-created_at'], 'permissions': [('send_campaign', 'Can send, schedule, pause, resume and cancel campaigns'), ('approve_campaign', 'Can approve campaigns of other users')], 'verbose_name': 'campaign', 'verbose_name_plural': 'campaigns'},
        ),
        migrations.AddField(
            model_name='campaign',
            name='approved_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='campaign',
            name='approved_by',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='campaign',
            name='created_by',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='campaign',
            name='lists',
            field=models.ManyToManyField(blank=True, related_name='campaigns', to='newsletter.mailinglist', verbose_name='lists'),
        ),
        migrations.AddField(
            model_name='campaign',
            name='segments',
            field=models.ManyToManyField(blank=True, related_name='campaigns', to='newsletter.segment', verbose_name='segments'),
        ),
        migrations.RunPython(lists_from_mailing_list, migrations.RunPython.noop),
        migrations.RemoveField(
            model_name='campaign',
            name='mailing_list',
        ),
        migrations.AlterField(
            model_name='campaign',
            name='language_policy',
            field=models.CharField(choices=[('source', "Send the source language when the reader's languages are missing"), ('skip', 'Skip readers whose languages are missing'), ('hold', 'Hold the campaign until the translations are complete')], default='source', max_length=16),
        ),
        migrations.AlterField(
            model_name='campaign',
            name='status',
            field=models.CharField(choices=[('draft', 'Draft'), ('scheduled', 'Scheduled'), ('preparing', 'Preparing'), ('sending', 'Sending'), ('paused', 'Paused'), ('sent', 'Sent'), ('cancelled', 'Cancelled')], default='draft', max_length=16),
        ),
    ]

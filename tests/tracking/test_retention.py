"""Per-person tracking events are purged after the retention period; their counts stay."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from cms.celery import app
from newsletter.models import Delivery, TrackingDaily, TrackingEvent
from newsletter.sending.campaigns import campaign_create
from newsletter.sending.prepare import campaign_prepare
from newsletter.tasks import tracking_purge_task
from newsletter.tracking.retention import tracking_purge
from tests.factories import ContactFactory, MailingListFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2027, 12, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def delivery(issue) -> Delivery:
    mailing_list = MailingListFactory()
    ContactFactory(subscribed_to=[mailing_list])
    campaign = campaign_create(page=issue, lists=[mailing_list])
    campaign_prepare(campaign_id=campaign.pk)
    return Delivery.objects.get(campaign=campaign)


def event(delivery: Delivery, kind: str, days_ago: int, *, machine=False):
    return TrackingEvent.objects.create(
        delivery=delivery,
        kind=kind,
        source=TrackingEvent.Source.REDIRECT,
        occurred_at=NOW - timedelta(days=days_ago),
        is_machine=machine,
        link="https://example.org/more" if kind == "clicked" else "",
    )


def test_events_past_retention_are_deleted_and_counted_by_day(delivery) -> None:
    old_click = event(delivery, "clicked", 400)
    event(delivery, "clicked", 400)
    event(delivery, "clicked", 400, machine=True)
    old_open = event(delivery, "opened", 396)
    recent = event(delivery, "opened", 394)

    assert tracking_purge(now=NOW) == 4

    assert list(TrackingEvent.objects.all()) == [recent]
    counts = {
        (row.day, row.kind, row.is_machine): row.count
        for row in TrackingDaily.objects.filter(campaign=delivery.campaign)
    }
    click_day = old_click.occurred_at.date()
    assert counts == {
        (click_day, "clicked", False): 2,
        (click_day, "clicked", True): 1,
        (old_open.occurred_at.date(), "opened", False): 1,
    }


def test_a_second_run_changes_nothing_and_later_runs_add_to_the_counts(
    delivery,
) -> None:
    event(delivery, "opened", 400)
    tracking_purge(now=NOW)

    assert tracking_purge(now=NOW) == 0
    event(delivery, "opened", 400)
    assert tracking_purge(now=NOW) == 1
    assert TrackingDaily.objects.get().count == 2
    assert TrackingEvent.objects.count() == 0


def test_the_retention_period_is_a_setting(delivery, settings) -> None:
    settings.RELAY_TRACKING_RETENTION_DAYS = 30
    event(delivery, "opened", 31)
    kept = event(delivery, "opened", 29)

    assert tracking_purge(now=NOW) == 1
    assert list(TrackingEvent.objects.all()) == [kept]


def test_the_purge_runs_daily_on_the_tracking_queue(delivery, settings) -> None:
    settings.RELAY_TRACKING_RETENTION_DAYS = 0
    TrackingEvent.objects.create(
        delivery=delivery,
        kind="opened",
        source=TrackingEvent.Source.PIXEL,
        occurred_at=timezone.now() - timedelta(days=1),
    )

    assert tracking_purge_task.apply().get() == 1
    entry = app.conf.beat_schedule["tracking-purge"]
    assert entry["task"] == "newsletter.tracking_purge"
    assert (entry["schedule"].minute, entry["schedule"].hour) == ({17}, {3})
    route = app.amqp.router.route
    assert route({}, "newsletter.tracking_purge")["queue"].name == "tracking"

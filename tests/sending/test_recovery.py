"""What stopped workers leave behind, schedules, deadlines and the shared rate."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from cms.celery import app
from newsletter.models import Campaign, Delivery
from newsletter.sending.campaigns import (
    campaign_create,
    campaign_resume,
    campaign_schedule,
    campaigns_start_due,
)
from newsletter.sending.dispatch import TransientSendError, campaign_retry_allowed
from newsletter.sending.prepare import campaign_prepare
from newsletter.sending.ratelimit import DatabaseBucket, Limit
from newsletter.sending.recovery import (
    MAX_SWEEPS,
    campaign_ledger,
    campaign_resend,
    deliveries_sweep,
)
from newsletter.tasks import (
    campaign_prepare_task,
    delivery_send_batch_task,
    retry_countdown,
)
from tests.factories import ContactFactory, MailingListFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def queued(monkeypatch) -> list[tuple]:
    """Record the batches queued, instead of sending them to a broker."""
    calls: list[tuple] = []
    monkeypatch.setattr(
        delivery_send_batch_task, "delay", lambda *args: calls.append(args)
    )
    return calls


@pytest.fixture
def campaign(issue) -> Campaign:
    mailing_list = MailingListFactory()
    ContactFactory.create_batch(6, subscribed_to=[mailing_list])
    campaign = campaign_create(page=issue, lists=[mailing_list])
    campaign_prepare(campaign_id=campaign.pk)
    return campaign


def crashed(campaign: Campaign, *, attempted: int, not_attempted: int) -> list[int]:
    """Leave rows as a worker killed mid-batch does; return their ids."""
    ids = list(
        campaign.deliveries.order_by("pk").values_list("pk", flat=True)[
            : attempted + not_attempted
        ]
    )
    long_ago = timezone.now() - datetime.timedelta(hours=1)
    Delivery.objects.filter(pk__in=ids).update(
        status=Delivery.Status.SENDING, claimed_at=long_ago
    )
    Delivery.objects.filter(pk__in=ids[:attempted]).update(attempted_at=long_ago)
    return ids


def test_the_sweeper_marks_attempted_rows_uncertain_and_requeues_the_rest(
    campaign, queued
) -> None:
    ids = crashed(campaign, attempted=2, not_attempted=3)

    result = deliveries_sweep()

    statuses = dict(campaign.deliveries.values_list("pk", "status"))
    assert [statuses[pk] for pk in ids] == ["uncertain"] * 2 + ["pending"] * 3
    assert (result.uncertain, result.requeued) == (2, 3)
    assert queued == [(campaign.pk, ids[2:])]
    assert "Resend only on request" in Delivery.objects.get(pk=ids[0]).reason


def test_the_sweeper_leaves_live_claims_alone(campaign, queued) -> None:
    campaign.deliveries.update(
        status=Delivery.Status.SENDING, claimed_at=timezone.now()
    )

    result = deliveries_sweep()

    assert result == type(result)(uncertain=0, failed=0, requeued=0)
    assert set(campaign.deliveries.values_list("status", flat=True)) == {"sending"}
    assert queued == []


def test_a_row_that_keeps_stopping_workers_is_failed(campaign, queued) -> None:
    [pk] = crashed(campaign, attempted=0, not_attempted=1)
    Delivery.objects.filter(pk=pk).update(sweeps=MAX_SWEEPS)

    deliveries_sweep()

    delivery = Delivery.objects.get(pk=pk)
    assert delivery.status == Delivery.Status.FAILED
    assert "stopped" in delivery.reason


def test_pending_rows_whose_task_was_lost_are_queued_again(campaign, queued) -> None:
    Campaign.objects.filter(pk=campaign.pk).update(
        started_at=timezone.now() - datetime.timedelta(hours=1)
    )

    deliveries_sweep()

    assert len(queued) == 1
    assert sorted(queued[0][1]) == sorted(
        campaign.deliveries.values_list("pk", flat=True)
    )


def test_the_sweep_finishes_a_campaign_left_with_uncertain_rows(
    campaign, queued
) -> None:
    campaign.deliveries.update(status=Delivery.Status.SENT)
    crashed(campaign, attempted=1, not_attempted=0)

    deliveries_sweep()

    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SENT


def test_uncertain_rows_are_resent_only_on_request(
    campaign, queued, django_capture_on_commit_callbacks
) -> None:
    campaign.deliveries.update(status=Delivery.Status.SENT)
    [uncertain] = crashed(campaign, attempted=1, not_attempted=0)
    deliveries_sweep()
    assert queued == []

    with django_capture_on_commit_callbacks(execute=True):
        reopened = campaign_resend(campaign_id=campaign.pk)

    assert reopened == 1
    assert queued == [(campaign.pk, [uncertain])]
    assert Delivery.objects.get(pk=uncertain).status == Delivery.Status.PENDING
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SENDING


def test_the_ledger_shows_every_reader_once(campaign, queued) -> None:
    crashed(campaign, attempted=2, not_attempted=1)
    deliveries_sweep()
    campaign.deliveries.filter(status="pending").update(status="sent")

    ledger = campaign_ledger(campaign_id=campaign.pk)

    assert (ledger.audience, ledger.sent, ledger.uncertain) == (6, 4, 2)
    assert ledger.finished


def test_sent_rows_are_never_resent(campaign) -> None:
    with pytest.raises(ValueError, match="can be resent"):
        campaign_resend(campaign_id=campaign.pk, statuses=("sent",))


def test_after_the_deadline_the_unsent_rest_is_failed(
    campaign, monkeypatch, settings
) -> None:
    settings.RELAY_SEND_DEADLINE = 60
    Campaign.objects.filter(pk=campaign.pk).update(
        started_at=timezone.now() - datetime.timedelta(seconds=60)
    )

    def outage(**kwargs):
        raise TransientSendError("503 from the provider")

    monkeypatch.setattr("newsletter.tasks.delivery_send_batch", outage)
    ids = list(campaign.deliveries.values_list("pk", flat=True))

    delivery_send_batch_task(campaign.pk, ids)

    assert set(campaign.deliveries.values_list("status", flat=True)) == {"failed"}
    assert "deadline" in campaign.deliveries.first().reason
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SENT


def test_the_deadline_counts_from_a_resume_or_a_reopening(campaign, settings) -> None:
    settings.RELAY_SEND_DEADLINE = 3600
    two_days_ago = timezone.now() - datetime.timedelta(days=2)
    Campaign.objects.filter(pk=campaign.pk).update(
        started_at=two_days_ago, status=Campaign.Status.PAUSED
    )
    assert not campaign_retry_allowed(campaign_id=campaign.pk, countdown=60)

    campaign_resume(campaign=campaign)  # after two days of pause

    assert campaign_retry_allowed(campaign_id=campaign.pk, countdown=60)
    assert not campaign_retry_allowed(campaign_id=campaign.pk, countdown=7200)

    Campaign.objects.filter(pk=campaign.pk).update(
        status=Campaign.Status.SENT, resumed_at=two_days_ago
    )
    campaign.deliveries.update(status=Delivery.Status.UNCERTAIN)
    campaign_resend(campaign_id=campaign.pk)

    assert campaign_retry_allowed(campaign_id=campaign.pk, countdown=60)


def test_backoff_grows_with_jitter_and_honours_retry_after(settings) -> None:
    settings.RELAY_SEND_RETRY_BACKOFF = 5
    settings.RELAY_SEND_RETRY_BACKOFF_MAX = 300

    waits = [retry_countdown(retries=n, retry_after=None) for n in range(10)]

    assert 2.5 <= waits[0] <= 5
    assert 20 <= waits[3] <= 40
    assert all(150 <= wait <= 300 for wait in waits[7:])
    assert retry_countdown(retries=3, retry_after=42) == 42


def test_scheduled_drafts_are_started_once_when_due(issue, monkeypatch) -> None:
    started: list[int] = []
    monkeypatch.setattr(campaign_prepare_task, "delay", started.append)
    mailing_list = MailingListFactory()
    now = timezone.now()
    due = campaign_create(page=issue, lists=[mailing_list], name="due")
    later = campaign_create(page=issue, lists=[mailing_list], name="later")
    campaign_schedule(campaign=due, at=now - datetime.timedelta(minutes=1))
    campaign_schedule(campaign=later, at=now + datetime.timedelta(days=3))

    assert campaigns_start_due(now=now) == [due.pk]
    assert campaigns_start_due(now=now) == []

    assert started == [due.pk]
    due.refresh_from_db()
    assert due.status == Campaign.Status.PREPARING


def test_the_beat_schedule_and_the_queues() -> None:
    schedule = app.conf.beat_schedule
    tasks = {entry["task"] for entry in schedule.values()}

    assert tasks == {
        "newsletter.campaigns_start_due",
        "newsletter.deliveries_sweep",
        "newsletter.provider_events_sweep",
        "newsletter.tracking_purge",
        "newsletter.tracking_hits_drain",
        "newsletter.contacts_import_purge",
    }
    assert schedule["campaigns-start-due"]["schedule"].minute == set(range(60))
    assert schedule["deliveries-sweep"]["schedule"].minute == set(range(60))
    assert schedule["provider-events-sweep"]["schedule"].minute == set(range(0, 60, 5))
    route = app.amqp.router.route
    assert route({}, "newsletter.delivery_send_batch")["queue"].name == "sending"
    assert route({}, "newsletter.tracking_event_record")["queue"].name == "tracking"
    assert route({}, "newsletter.confirmation_send")["queue"].name == "default"
    assert route({}, "newsletter.provider_event_process")["queue"].name == "tracking"
    # Buffered tracking hits: every second, on the tracking queue; a run that
    # waited 10 s expires (the next one does its work).
    assert schedule["tracking-hits-drain"]["schedule"] == 1.0
    assert schedule["tracking-hits-drain"]["options"] == {"expires": 10}
    assert route({}, "newsletter.tracking_hits_drain")["queue"].name == "tracking"


def test_the_database_bucket_spaces_reservations_at_the_rate() -> None:
    bucket = DatabaseBucket(name="test-provider", limit=Limit(rate=50, burst=5))

    waits = [bucket.reserve(5) for _ in range(4)]

    assert waits[0] == 0
    # Each further 5 messages take a tenth of a second at 50 per second.
    assert [round(w, 1) for w in waits[1:]] == [0.1, 0.2, 0.3]


def test_no_task_waits_longer_than_the_broker_keeps_it_invisible(settings) -> None:
    from newsletter.tasks import RETRY_AFTER_MAX

    longest_wait = max(RETRY_AFTER_MAX, settings.RELAY_SEND_RETRY_BACKOFF_MAX)
    assert 2 * longest_wait <= settings.RELAY_BROKER_VISIBILITY_TIMEOUT
    assert retry_countdown(retries=50, retry_after=10**6) == RETRY_AFTER_MAX
    if settings.CELERY_BROKER_URL.startswith("redis://"):
        options = app.conf.broker_transport_options
        assert options["visibility_timeout"] == settings.RELAY_BROKER_VISIBILITY_TIMEOUT

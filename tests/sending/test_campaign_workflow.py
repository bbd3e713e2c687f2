"""The campaign's life: audience, language policy, approval, pause, resume, cancel, progress."""

from __future__ import annotations

import datetime

import pytest
from django.core import mail
from django.utils import timezone
from wagtail.models import Locale

from newsletter.audience.suppression import suppression_add
from newsletter.models import Campaign, Contact, Delivery, Segment, Suppression
from newsletter.sending.campaigns import (
    CampaignActionError,
    campaign_approve,
    campaign_cancel,
    campaign_create,
    campaign_pause,
    campaign_resume,
    campaign_schedule,
    campaign_send_again,
    campaign_start,
    campaigns_start_due,
)
from newsletter.sending.dispatch import delivery_send_batch
from newsletter.sending.forecast import campaign_forecast
from newsletter.sending.prepare import campaign_prepare
from newsletter.sending.progress import campaign_progress
from newsletter.sending.recovery import campaign_ledger, deliveries_sweep
from newsletter.tasks import campaign_prepare_task, delivery_send_batch_task
from tests.factories import ContactFactory, MailingListFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def queued(monkeypatch) -> list[tuple]:
    """Record the batches and preparations queued, instead of using a broker."""
    calls: list[tuple] = []
    monkeypatch.setattr(
        delivery_send_batch_task, "delay", lambda *args: calls.append(("batch", *args))
    )
    monkeypatch.setattr(
        campaign_prepare_task, "delay", lambda *args: calls.append(("prepare", *args))
    )
    return calls


def recipients() -> list[str]:
    return [message.to[0].rsplit("<", 1)[-1].rstrip(">") for message in mail.outbox]


def test_the_audience_is_the_union_of_lists_and_segments_each_reader_once(
    issue,
) -> None:
    first, second = MailingListFactory(), MailingListFactory()
    on_first = ContactFactory(subscribed_to=[first])
    on_both = ContactFactory(subscribed_to=[first, second], country="PL")
    on_second = ContactFactory(subscribed_to=[second])
    polish_mp = ContactFactory(kind=Contact.Kind.MP, country="PL")  # on no list
    gone = ContactFactory(
        kind=Contact.Kind.MP, country="PL", status=Contact.Status.UNSUBSCRIBED
    )
    suppressed = ContactFactory(subscribed_to=[first])
    suppression_add(email=suppressed.email, reason=Suppression.Reason.MANUAL)
    ContactFactory(subscribed_to=[MailingListFactory()])  # another list only
    segment = Segment.objects.create(
        name="Polish MPs",
        rules={
            "conditions": [
                {"field": "kind", "op": "in", "value": ["mp"]},
                {"field": "country", "op": "in", "value": ["PL"]},
            ]
        },
    )
    campaign = campaign_create(page=issue, lists=[first, second], segments=[segment])

    campaign_prepare(campaign_id=campaign.pk)

    readers = list(
        Delivery.objects.filter(campaign=campaign).values_list("contact_id", flat=True)
    )
    assert sorted(readers) == sorted(
        [on_first.pk, on_both.pk, on_second.pk, polish_mp.pk]
    )
    assert gone.pk not in readers and suppressed.pk not in readers
    assert campaign_forecast(campaign).total == 4


def test_a_campaign_needs_an_audience(issue) -> None:
    with pytest.raises(ValueError, match="at least one list or segment"):
        campaign_create(page=issue)


def test_the_forecast_shows_the_language_each_reader_gets_under_each_policy(
    issue,
) -> None:
    readers = MailingListFactory()
    ContactFactory.create_batch(
        2, preferred_language="de", country="DE", subscribed_to=[readers]
    )
    ContactFactory(
        preferred_language="pl",
        fallback_languages=[],
        country="PL",
        subscribed_to=[readers],
    )
    ContactFactory(
        preferred_language="fr",
        fallback_languages=["bg"],
        country="FR",
        subscribed_to=[readers],
    )
    campaign = campaign_create(page=issue, lists=[readers])

    forecast = campaign_forecast(campaign)

    lines = {line.preferred: line for line in forecast.languages}
    assert forecast.total == 4
    assert [(o.language, o.how, o.readers) for o in lines["de"].outcomes] == [
        ("de", "preferred", 2)
    ]
    assert [(o.language, o.how) for o in lines["pl"].outcomes] == [("en", "source")]
    assert [(o.language, o.how) for o in lines["fr"].outcomes] == [("bg", "fallback")]
    assert forecast.sent_by_language == {"de": 2, "en": 1, "bg": 1}
    assert {code: n for code, _name, n in forecast.countries}["DE"] == 2

    campaign.language_policy = Campaign.LanguagePolicy.SKIP
    skipping = campaign_forecast(campaign)
    assert skipping.skipped == 1
    assert skipping.sent_by_language == {"de": 2, "bg": 1}


def test_a_held_campaign_waits_for_a_started_translation_and_the_beat_starts_it(
    issue, queued
) -> None:
    readers = MailingListFactory()
    polish = ContactFactory(preferred_language="pl", subscribed_to=[readers])
    ContactFactory(
        preferred_language="fr", fallback_languages=[], subscribed_to=[readers]
    )
    # A Polish translation is started (a draft page), French never is.
    draft = issue.copy_for_translation(
        Locale.objects.get(language_code="pl"), copy_parents=True
    )
    campaign = campaign_create(
        page=issue, lists=[readers], language_policy=Campaign.LanguagePolicy.HOLD
    )

    assert campaign_start(campaign=campaign) == Campaign.Status.SCHEDULED
    assert campaign_forecast(campaign).waiting_for == ["pl"]
    assert campaigns_start_due() == []
    assert queued == []

    draft.save_revision().publish()
    assert campaigns_start_due() == [campaign.pk]
    assert queued == [("prepare", campaign.pk)]
    campaign_prepare(campaign_id=campaign.pk)
    chosen = dict(
        Delivery.objects.filter(campaign=campaign).values_list("contact_id", "language")
    )
    assert chosen[polish.pk] == "pl"
    assert sorted(chosen.values()) == ["en", "pl"]  # French reader gets the source


def test_a_translation_behind_the_source_is_not_complete(issue) -> None:
    readers = MailingListFactory()
    ContactFactory(preferred_language="de", subscribed_to=[readers])
    campaign = campaign_create(
        page=issue, lists=[readers], language_policy=Campaign.LanguagePolicy.HOLD
    )
    assert campaign_forecast(campaign).waiting_for == []

    issue.save_revision().publish()  # the source changed after the translation

    assert campaign_forecast(Campaign.objects.get(pk=campaign.pk)).waiting_for == ["de"]


def test_with_approval_on_the_creator_cannot_approve_and_sending_waits_for_a_second_person(
    issue, settings, secretariat_pair, queued
) -> None:
    settings.RELAY_CAMPAIGN_APPROVAL = True
    author, colleague = secretariat_pair
    readers = MailingListFactory()
    ContactFactory(subscribed_to=[readers])
    campaign = campaign_create(page=issue, lists=[readers], created_by=author)

    with pytest.raises(CampaignActionError, match="approve"):
        campaign_start(campaign=campaign)
    with pytest.raises(CampaignActionError, match="approve"):
        campaign_schedule(
            campaign=campaign, at=timezone.now() + datetime.timedelta(hours=1)
        )
    with pytest.raises(CampaignActionError, match="cannot approve"):
        campaign_approve(campaign=campaign, user=author)
    assert queued == []

    campaign_approve(campaign=campaign, user=colleague)
    campaign.refresh_from_db()
    assert campaign.approved_by == colleague
    assert campaign_start(campaign=campaign) == Campaign.Status.PREPARING


@pytest.fixture
def secretariat_pair(db):
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    group = Group.objects.get(name="Secretariat")
    users = []
    for name in ("author", "colleague"):
        user = get_user_model().objects.create_user(name, f"{name}@example.org", "pw")
        user.groups.add(group)
        users.append(user)
    return users


@pytest.fixture
def prepared(issue) -> tuple[Campaign, list[int]]:
    readers = MailingListFactory()
    ContactFactory.create_batch(6, subscribed_to=[readers])
    campaign = campaign_create(page=issue, lists=[readers])
    return campaign, campaign_prepare(campaign_id=campaign.pk)


def test_pause_and_resume_send_every_reader_exactly_once(
    prepared, queued, django_capture_on_commit_callbacks
) -> None:
    campaign, ids = prepared
    delivery_send_batch(campaign_id=campaign.pk, delivery_ids=ids[:2])

    campaign_pause(campaign=campaign)
    paused = delivery_send_batch(campaign_id=campaign.pk, delivery_ids=ids[2:])

    assert paused.claimed == 0
    assert campaign_ledger(campaign_id=campaign.pk).pending == 4
    assert len(mail.outbox) == 2

    with django_capture_on_commit_callbacks(execute=True):
        campaign_resume(campaign=campaign)
    batches = [call for call in queued if call[0] == "batch"]
    assert sorted(i for _kind, _id, chunk in batches for i in chunk) == sorted(ids[2:])
    for _kind, campaign_id, chunk in batches + batches:  # each batch delivered twice
        delivery_send_batch(campaign_id=campaign_id, delivery_ids=chunk)

    assert len(recipients()) == len(set(recipients())) == 6
    ledger = campaign_ledger(campaign_id=campaign.pk)
    assert ledger.sent == ledger.audience == 6
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SENT


def test_cancel_skips_the_pending_readers_and_the_ledger_adds_up(
    prepared, queued
) -> None:
    campaign, ids = prepared
    delivery_send_batch(campaign_id=campaign.pk, delivery_ids=ids[:2])

    assert campaign_cancel(campaign=campaign) == 4
    later = delivery_send_batch(campaign_id=campaign.pk, delivery_ids=ids)

    assert later.claimed == 0
    assert len(mail.outbox) == 2
    ledger = campaign_ledger(campaign_id=campaign.pk)
    assert (ledger.sent, ledger.skipped) == (2, 4)
    assert ledger.sent + ledger.failed + ledger.skipped + ledger.uncertain == 6
    assert set(
        Delivery.objects.filter(status="skipped").values_list("reason", flat=True)
    ) == {"The campaign was cancelled before this mail was sent."}
    with pytest.raises(CampaignActionError):
        campaign_resume(campaign=campaign)


def test_rows_released_after_a_cancel_are_skipped_by_the_sweeper(
    prepared, queued
) -> None:
    campaign, ids = prepared
    campaign_cancel(campaign=campaign)
    # A batch that was handing over released a row after the cancel.
    Delivery.objects.filter(pk=ids[0]).update(status=Delivery.Status.PENDING)

    deliveries_sweep()

    assert campaign_ledger(campaign_id=campaign.pk).pending == 0


def test_send_again_reopens_only_failed_and_uncertain_readers(
    prepared, queued, django_capture_on_commit_callbacks
) -> None:
    campaign, ids = prepared
    delivery_send_batch(campaign_id=campaign.pk, delivery_ids=ids)
    Delivery.objects.filter(pk=ids[0]).update(status=Delivery.Status.FAILED)
    Delivery.objects.filter(pk=ids[1]).update(status=Delivery.Status.UNCERTAIN)
    campaign.refresh_from_db()

    with django_capture_on_commit_callbacks(execute=True):
        assert campaign_send_again(campaign=campaign) == 2

    assert sorted(i for call in queued for i in call[2]) == sorted(ids[:2])


def test_progress_counts_the_ledger_and_estimates_the_time_left(prepared) -> None:
    campaign, ids = prepared
    now = timezone.now()
    Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.SENDING)
    # Two mails sent in the last 20 seconds: 0.1 per second; 3 still open.
    for pk, seconds_ago in zip(ids[:2], (20, 0), strict=True):
        Delivery.objects.filter(pk=pk).update(
            status=Delivery.Status.SENT,
            sent_at=now - datetime.timedelta(seconds=seconds_ago),
        )
    Delivery.objects.filter(pk=ids[2]).update(status=Delivery.Status.FAILED)

    progress = campaign_progress(campaign_id=campaign.pk, now=now)

    assert (progress.prepared, progress.sent, progress.failed, progress.pending) == (
        6,
        2,
        1,
        3,
    )
    assert progress.percent == 50
    assert progress.rate == pytest.approx(0.1)
    assert progress.seconds_left == 30

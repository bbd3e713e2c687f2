import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from newsletter.models import Campaign, Contact, Delivery, Segment, Topic
from newsletter.sending.campaigns import campaign_create
from newsletter.sending.prepare import campaign_prepare
from tests.factories import ContactFactory, MailingListFactory

pytestmark = pytest.mark.django_db


def test_prepare_chooses_each_readers_best_published_language(issue) -> None:
    mailing_list = MailingListFactory()
    german = ContactFactory(preferred_language="de", subscribed_to=[mailing_list])
    bulgarian = ContactFactory(preferred_language="bg", subscribed_to=[mailing_list])
    french = ContactFactory(
        preferred_language="fr",
        fallback_languages=["pt", "en"],
        subscribed_to=[mailing_list],
    )
    romanian = ContactFactory(preferred_language="ro", subscribed_to=[mailing_list])
    polish = ContactFactory(
        preferred_language="pl",
        fallback_languages=["ro", "bg"],
        subscribed_to=[mailing_list],
    )
    campaign = campaign_create(page=issue, lists=[mailing_list])

    pending = campaign_prepare(campaign_id=campaign.pk)

    chosen = dict(
        Delivery.objects.filter(campaign=campaign).values_list("contact_id", "language")
    )
    assert chosen == {
        german.pk: "de",
        bulgarian.pk: "bg",
        french.pk: "en",
        romanian.pk: "en",
        polish.pk: "bg",
    }
    assert sorted(pending) == sorted(
        Delivery.objects.filter(campaign=campaign).values_list("pk", flat=True)
    )
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SENDING


def test_prepare_twice_creates_no_second_delivery(issue) -> None:
    mailing_list = MailingListFactory()
    ContactFactory.create_batch(3, subscribed_to=[mailing_list])
    campaign = campaign_create(page=issue, lists=[mailing_list])

    first = campaign_prepare(campaign_id=campaign.pk)
    second = campaign_prepare(campaign_id=campaign.pk)

    assert Delivery.objects.filter(campaign=campaign).count() == 3
    assert sorted(first) == sorted(second)


def test_prepare_leaves_out_unsubscribed_and_inactive_contacts(issue) -> None:
    mailing_list = MailingListFactory()
    reader = ContactFactory(subscribed_to=[mailing_list])
    ContactFactory(status=Contact.Status.UNSUBSCRIBED, subscribed_to=[mailing_list])
    ContactFactory()  # not on the list
    campaign = campaign_create(page=issue, lists=[mailing_list])

    campaign_prepare(campaign_id=campaign.pk)

    assert list(
        Delivery.objects.filter(campaign=campaign).values_list("contact_id", flat=True)
    ) == [reader.pk]


def test_skip_policy_records_readers_without_a_language_as_skipped(issue) -> None:
    mailing_list = MailingListFactory()
    ContactFactory(preferred_language="ro", subscribed_to=[mailing_list])
    campaign = campaign_create(
        page=issue,
        lists=[mailing_list],
        language_policy=Campaign.LanguagePolicy.SKIP,
    )

    pending = campaign_prepare(campaign_id=campaign.pk)

    delivery = Delivery.objects.get(campaign=campaign)
    assert pending == []
    assert delivery.status == Delivery.Status.SKIPPED
    assert "translation" in delivery.reason


def test_unpublished_translation_is_never_chosen(issue) -> None:
    issue.get_translation(
        issue.get_translations().get(locale__language_code="de").locale
    ).unpublish()
    mailing_list = MailingListFactory()
    ContactFactory(preferred_language="de", subscribed_to=[mailing_list])
    campaign = campaign_create(page=issue, lists=[mailing_list])

    campaign_prepare(campaign_id=campaign.pk)

    assert Delivery.objects.get(campaign=campaign).language == "en"


def test_campaign_refuses_a_page_that_cannot_be_mailed(home_page) -> None:
    with pytest.raises(ValueError, match="cannot be sent"):
        campaign_create(page=home_page, lists=[MailingListFactory()])


def test_prepare_writes_complete_rows_in_chunks(issue, monkeypatch) -> None:
    monkeypatch.setattr("newsletter.sending.prepare.CHUNK", 2)
    mailing_list = MailingListFactory()
    readers = ContactFactory.create_batch(5, subscribed_to=[mailing_list])
    campaign = campaign_create(page=issue, lists=[mailing_list])

    campaign_prepare(campaign_id=campaign.pk)

    rows = list(Delivery.objects.filter(campaign=campaign).order_by("contact_id"))
    assert [row.contact_id for row in rows] == [reader.pk for reader in readers]
    assert {row.status for row in rows} == {Delivery.Status.PENDING}
    assert all(row.created_at and row.sweeps == 0 for row in rows)
    assert all(row.provider_message_id == "" and row.claim is None for row in rows)
    # Every row has its own unguessable token, as the model's default makes it.
    assert len({row.token for row in rows}) == 5
    assert all(len(row.token) >= 22 for row in rows)


def test_a_large_prepare_refreshes_the_planners_statistics(issue, monkeypatch) -> None:
    monkeypatch.setattr("newsletter.sending.prepare.ANALYZE_AFTER", 3)
    mailing_list = MailingListFactory()
    ContactFactory.create_batch(3, subscribed_to=[mailing_list])
    campaign = campaign_create(page=issue, lists=[mailing_list])

    with CaptureQueriesContext(connection) as queries:
        campaign_prepare(campaign_id=campaign.pk)

    analyzed = [q["sql"] for q in queries.captured_queries if "ANALYZE" in q["sql"]]
    assert analyzed == (
        ['ANALYZE "newsletter_delivery" ("id", "campaign_id", "status")']
        if connection.vendor == "postgresql"
        else []
    )


def test_a_segment_gone_stale_since_the_start_sends_the_campaign_back_to_draft(
    issue,
) -> None:
    topic = Topic.objects.create(name="Labour exploitation", slug="labour")
    segment = Segment.objects.create(
        name="Labour",
        rules={"conditions": [{"field": "topics", "op": "any", "value": ["labour"]}]},
    )
    mailing_list = MailingListFactory()
    ContactFactory(subscribed_to=[mailing_list])
    campaign = campaign_create(page=issue, lists=[mailing_list], segments=[segment])
    Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.PREPARING)
    topic.delete()  # the segment's rules name a topic that no longer exists

    pending = campaign_prepare(campaign_id=campaign.pk)

    campaign.refresh_from_db()
    assert pending == []
    assert campaign.status == Campaign.Status.DRAFT
    assert not Delivery.objects.filter(campaign=campaign).exists()


def test_prepare_again_adds_new_readers_and_leaves_existing_rows_as_they_are(
    issue,
) -> None:
    mailing_list = MailingListFactory()
    ContactFactory.create_batch(3, subscribed_to=[mailing_list])
    campaign = campaign_create(page=issue, lists=[mailing_list])
    campaign_prepare(campaign_id=campaign.pk)
    sent = Delivery.objects.filter(campaign=campaign).order_by("pk").first()
    Delivery.objects.filter(pk=sent.pk).update(status=Delivery.Status.SENT)
    newcomer = ContactFactory(subscribed_to=[mailing_list])

    pending = campaign_prepare(campaign_id=campaign.pk)

    rows = Delivery.objects.filter(campaign=campaign)
    assert rows.count() == 4
    assert rows.get(pk=sent.pk).status == Delivery.Status.SENT
    assert rows.get(pk=sent.pk).token == sent.token
    assert rows.get(contact=newcomer).pk in pending
    assert sent.pk not in pending

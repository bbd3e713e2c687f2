import pytest
import requests
from anymail.exceptions import AnymailAPIError, AnymailRecipientsRefused
from django.core import mail

from newsletter.models import Campaign, Contact, Delivery
from newsletter.sending.campaigns import campaign_create
from newsletter.sending.dispatch import (
    TransientSendError,
    classify_send_error,
    delivery_send_batch,
    reader_tracking_id,
)
from newsletter.sending.prepare import campaign_prepare
from newsletter.tasks import delivery_send_batch_task
from tests.factories import ContactFactory, MailingListFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def prepared(issue):
    mailing_list = MailingListFactory()
    contacts = [
        ContactFactory(preferred_language=language, subscribed_to=[mailing_list])
        for language in ("de", "bg", "en", "ro")
    ]
    campaign = campaign_create(page=issue, lists=[mailing_list])
    ids = campaign_prepare(campaign_id=campaign.pk)
    return campaign, contacts, ids


def test_each_reader_gets_one_mail_in_their_language(prepared) -> None:
    campaign, contacts, ids = prepared

    delivery_send_batch_task(campaign.pk, ids)

    by_recipient = {
        message.to[0].rsplit("<", 1)[-1].rstrip(">"): message for message in mail.outbox
    }
    assert len(mail.outbox) == 4
    assert (
        by_recipient[contacts[0].email].subject
        == "Parlamente handeln gegen Menschenhandel"
    )
    assert (
        by_recipient[contacts[1].email].subject == "Парламентите действат срещу трафика"
    )
    assert by_recipient[contacts[2].email].subject == "Parliaments act on trafficking"
    assert by_recipient[contacts[3].email].subject == "Parliaments act on trafficking"
    html = by_recipient[contacts[1].email].alternatives[0][0]
    assert '<html lang="bg"' in html
    assert "Народни представители се срещнаха в Букурещ." in html
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SENT


def test_a_redelivered_batch_sends_nothing_twice(prepared) -> None:
    campaign, _contacts, ids = prepared

    delivery_send_batch_task(campaign.pk, ids)
    again = delivery_send_batch_task(campaign.pk, ids)

    assert len(mail.outbox) == 4
    assert again["claimed"] == 0
    assert set(
        Delivery.objects.filter(campaign=campaign).values_list("status", flat=True)
    ) == {"sent"}


def test_a_batch_sends_only_its_own_campaigns_rows(prepared, issue) -> None:
    campaign, _contacts, ids = prepared
    other_list = MailingListFactory()
    ContactFactory(subscribed_to=[other_list])
    other = campaign_create(page=issue, lists=[other_list])
    other_ids = campaign_prepare(campaign_id=other.pk)

    result = delivery_send_batch(campaign_id=campaign.pk, delivery_ids=other_ids)

    assert result.claimed == 0
    assert mail.outbox == []
    assert Delivery.objects.get(pk=other_ids[0]).status == Delivery.Status.PENDING


def test_rows_claimed_by_another_worker_are_not_sent(prepared) -> None:
    campaign, _contacts, ids = prepared
    Delivery.objects.filter(pk=ids[0]).update(status=Delivery.Status.SENDING)

    result = delivery_send_batch(campaign_id=campaign.pk, delivery_ids=ids)

    assert result.claimed == 3
    assert len(mail.outbox) == 3
    assert Delivery.objects.get(pk=ids[0]).status == Delivery.Status.SENDING


def test_sent_deliveries_record_the_provider_message_id_and_metadata(prepared) -> None:
    campaign, _contacts, ids = prepared

    delivery_send_batch(campaign_id=campaign.pk, delivery_ids=ids)

    delivery = Delivery.objects.get(pk=ids[0])
    message = next(
        m for m in mail.outbox if m.metadata["delivery_id"] == str(delivery.pk)
    )
    assert delivery.provider_message_id == str(message.anymail_status.message_id)
    assert message.metadata == {
        "delivery_id": str(delivery.pk),
        "campaign_id": str(campaign.pk),
    }


def test_a_reader_who_unsubscribed_after_prepare_is_skipped(prepared) -> None:
    campaign, contacts, ids = prepared
    Contact.objects.filter(pk=contacts[0].pk).update(status=Contact.Status.UNSUBSCRIBED)

    delivery_send_batch(campaign_id=campaign.pk, delivery_ids=ids)

    assert len(mail.outbox) == 3
    assert (
        Delivery.objects.get(campaign=campaign, contact=contacts[0]).status
        == Delivery.Status.SKIPPED
    )


def test_pixel_only_for_readers_who_consented_to_tracking(prepared) -> None:
    campaign, contacts, ids = prepared
    Contact.objects.filter(pk=contacts[0].pk).update(tracking_consent=False)

    delivery_send_batch(campaign_id=campaign.pk, delivery_ids=ids)

    html = {
        m.to[0].rsplit("<", 1)[-1].rstrip(">"): m.alternatives[0][0]
        for m in mail.outbox
    }
    assert "/t/o/" not in html[contacts[0].email]
    tracking = reader_tracking_id(
        Delivery.objects.get(campaign=campaign, contact=contacts[1])
    )
    assert f"http://testserver/t/o/{tracking}.gif" in html[contacts[1].email]
    assert "{{relay:" not in "".join(html.values())


def _fail_with(monkeypatch, error_for_email):
    from anymail.message import AnymailMessage

    original = AnymailMessage.send

    def send(self, *args, **kwargs):
        error = error_for_email(self.to[0])
        if error is not None:
            raise error
        return original(self, *args, **kwargs)

    monkeypatch.setattr(AnymailMessage, "send", send)


def test_permanent_rejection_is_recorded_and_not_retried(prepared, monkeypatch) -> None:
    campaign, contacts, ids = prepared
    _fail_with(
        monkeypatch,
        lambda to: (
            AnymailRecipientsRefused("rejected") if contacts[0].email in to else None
        ),
    )

    result = delivery_send_batch(campaign_id=campaign.pk, delivery_ids=ids)

    refused = Delivery.objects.get(campaign=campaign, contact=contacts[0])
    assert refused.status == Delivery.Status.FAILED
    assert "rejected" in refused.reason
    assert result.sent == 3
    assert result.failed == 1


def test_provider_outage_releases_unsent_rows_for_a_retry(
    prepared, monkeypatch
) -> None:
    campaign, contacts, ids = prepared
    response = requests.Response()
    response.status_code, response.reason, response._content = (
        503,
        "Service Unavailable",
        b"",
    )
    outage = AnymailAPIError("unavailable", status_code=503, response=response)
    _fail_with(monkeypatch, lambda to: outage if contacts[2].email in to else None)
    order = list(
        Delivery.objects.filter(pk__in=ids)
        .order_by("pk")
        .values_list("contact_id", flat=True)
    )

    with pytest.raises(TransientSendError):
        delivery_send_batch(campaign_id=campaign.pk, delivery_ids=ids)

    statuses = dict(
        Delivery.objects.filter(campaign=campaign).values_list("contact_id", "status")
    )
    failed_at = order.index(contacts[2].pk)
    assert [statuses[c] for c in order[:failed_at]] == ["sent"] * failed_at
    assert {statuses[c] for c in order[failed_at:]} == {"pending"}

    monkeypatch.undo()
    delivery_send_batch(campaign_id=campaign.pk, delivery_ids=ids)
    assert len(mail.outbox) == 4
    assert set(
        Delivery.objects.filter(campaign=campaign).values_list("status", flat=True)
    ) == {"sent"}


@pytest.mark.parametrize(
    ("error", "outcome"),
    [
        (AnymailRecipientsRefused("no"), "permanent"),
        (AnymailAPIError("bad request", status_code=400), "permanent"),
        (AnymailAPIError("slow down", status_code=429), "retry"),
        (AnymailAPIError("down", status_code=502), "retry"),
        (requests.ConnectTimeout("connect timeout"), "retry"),
        (requests.ReadTimeout("read timeout"), "unknown"),
        (AnymailAPIError("no status"), "unknown"),
        (RuntimeError("anything else"), "unknown"),
    ],
)
def test_send_errors_are_classified(error, outcome) -> None:
    assert classify_send_error(error) == outcome

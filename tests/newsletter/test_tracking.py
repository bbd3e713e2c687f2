import pytest

from newsletter.models import Delivery, TrackingEvent
from newsletter.sending.campaigns import campaign_create
from newsletter.sending.prepare import campaign_prepare
from newsletter.tracking.tokens import pixel_url
from tests.factories import ContactFactory, MailingListFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def delivery(issue) -> Delivery:
    mailing_list = MailingListFactory()
    ContactFactory(subscribed_to=[mailing_list], tracking_consent=True)
    campaign = campaign_create(page=issue, lists=[mailing_list])
    campaign_prepare(campaign_id=campaign.pk)
    return Delivery.objects.get(campaign=campaign)


def test_fetching_the_pixel_records_exactly_one_open(client, delivery) -> None:
    response = client.get(
        pixel_url(delivery.token), HTTP_USER_AGENT="Thunderbird/128.0"
    )

    assert response.status_code == 200
    assert response["Content-Type"] == "image/gif"
    assert response.content.startswith(b"GIF89a")
    assert "no-cache" in response["Cache-Control"]
    event = TrackingEvent.objects.get()
    assert (event.delivery, event.kind, event.source) == (delivery, "opened", "pixel")
    assert event.user_agent_family == "Thunderbird"


@pytest.mark.parametrize(
    "alter",
    [
        lambda token: token[:-1] + ("A" if token[-1] != "A" else "B"),
        lambda token: token.upper() if token.upper() != token else token.lower(),
        lambda token: token + "x",
        lambda token: token[:8],
        lambda token: "../" + token,
        lambda token: "%00" + token,
    ],
)
def test_a_wrong_or_altered_token_gets_a_plain_404_and_records_nothing(
    client, delivery, alter
) -> None:
    response = client.get(f"/t/o/{alter(delivery.token)}.gif")

    assert response.status_code == 404
    assert b"GIF" not in response.content
    assert TrackingEvent.objects.count() == 0


def test_no_open_is_recorded_without_tracking_consent(client, delivery) -> None:
    delivery.contact.tracking_consent = False
    delivery.contact.save()

    response = client.get(pixel_url(delivery.token))

    assert response.status_code == 200
    assert TrackingEvent.objects.count() == 0


def test_the_pixel_answers_get_only(client, delivery) -> None:
    assert client.post(pixel_url(delivery.token)).status_code == 405
    assert TrackingEvent.objects.count() == 0

"""A batch message, expanded per reader, is exactly that reader's own message.

``build_batch_message`` works each variant's merge data out once and fills in
each reader's tokens; these tests expand its merge fields as the provider does
and compare the result with ``build_message`` for the same reader.
"""

from __future__ import annotations

import re

import pytest

from newsletter.models import Delivery
from newsletter.sending.campaigns import campaign_create
from newsletter.sending.dispatch import (
    BATCH_PROVIDERS,
    build_batch_message,
    build_message,
    reader_tracking_id,
    variant_for,
)
from newsletter.sending.prepare import campaign_prepare
from newsletter.sending.render import variant_track_links
from tests.factories import ContactFactory, MailingListFactory

pytestmark = pytest.mark.django_db

MERGE_FIELD = BATCH_PROVIDERS["mailgun"].merge_field
RECIPIENT_FIELD = re.compile(r"%recipient\.([a-z0-9_]+)%")


def expand(template: str, values: dict[str, str]) -> str:
    """Fill Mailgun's ``%recipient.NAME%`` fields as Mailgun does."""
    return RECIPIENT_FIELD.sub(lambda m: values[m.group(1)], template)


def readers_by_variant(issue) -> tuple[object, dict[tuple[str, str], list[Delivery]]]:
    mailing_list = MailingListFactory()
    for language in ("en", "de", "bg"):
        for consent in (True, False):
            ContactFactory(
                preferred_language=language,
                tracking_consent=consent,
                first_name="Ana",
                last_name='O"Neil & <Co>',
                subscribed_to=[mailing_list],
            )
    campaign = campaign_create(page=issue, lists=[mailing_list])
    campaign_prepare(campaign_id=campaign.pk)
    variants: dict[tuple[str, str], list[Delivery]] = {}
    for delivery in Delivery.objects.filter(campaign=campaign).select_related(
        "contact"
    ):
        variants.setdefault((delivery.language, delivery.country), []).append(delivery)
    return campaign, variants


def assert_batch_matches_single_messages(campaign, variants) -> dict[str, dict]:
    """Compare each reader's expanded batch message with their own; return the data."""
    pages = {
        page.locale.language_code: page
        for page in campaign.page.get_translations(inclusive=True).specific()
    }
    merge_data: dict[str, dict] = {}
    for (language, country), deliveries in variants.items():
        variant = variant_track_links(
            variant_for(
                pages[language],
                campaign_id=campaign.pk,
                language=language,
                country=country,
            ),
            campaign_id=campaign.pk,
        )
        batch = build_batch_message(
            variant, deliveries, campaign=campaign, merge_field=MERGE_FIELD
        )
        html = batch.alternatives[0][0]
        for delivery in deliveries:
            single = build_message(variant, delivery, campaign=campaign)
            values = batch.merge_data[delivery.contact.email]
            assert expand(batch.body, values) == single.body
            assert expand(html, values) == single.alternatives[0][0]
            headers = batch.merge_headers[delivery.contact.email]
            assert (
                headers["List-Unsubscribe"] == single.extra_headers["List-Unsubscribe"]
            )
            assert headers["Message-ID"].startswith(
                f"<relay.{campaign.pk}.{delivery.pk}."
            )
            assert batch.merge_metadata[delivery.contact.email] == {
                "delivery_id": str(delivery.pk)
            }
            merge_data[delivery.token] = values
    return merge_data


def test_each_reader_of_a_batch_gets_their_own_message(issue) -> None:
    campaign, variants = readers_by_variant(issue)

    merge_data = assert_batch_matches_single_messages(campaign, variants)

    assert len(merge_data) == 6
    for delivery in (d for ds in variants.values() for d in ds):
        values = merge_data[delivery.token]
        assert delivery.token in values["h_unsubscribe_url"]
        assert delivery.contact.preferences_token in values["h_preferences_url"]
        if delivery.contact.tracking_consent:
            # The pixel and the clicks carry the reader's signed tracking id.
            tracking = reader_tracking_id(delivery)
            assert tracking.startswith(f"{delivery.token}.{campaign.pk}.")
            assert f"/t/o/{tracking}.gif" in values["h_pixel_html"]
            assert any(f"/t/c/{tracking}/" in v for v in values.values())
        else:
            assert values["h_pixel_html"] == ""
            assert not any("/t/c/" in v for v in values.values())


def test_anonymous_tracking_gives_nobody_a_pixel_or_a_tracked_link(
    issue, settings
) -> None:
    settings.RELAY_ANONYMOUS_TRACKING = True
    campaign, variants = readers_by_variant(issue)

    merge_data = assert_batch_matches_single_messages(campaign, variants)

    assert len(merge_data) == 6
    for values in merge_data.values():
        assert values["h_pixel_html"] == ""
        assert not any("/t/" in v for v in values.values())


def test_a_token_reverse_would_quote_falls_back_to_the_full_reverse(issue) -> None:
    campaign, variants = readers_by_variant(issue)
    delivery = next(iter(variants.values()))[0]
    delivery.contact.preferences_token = "a b?ü"

    merge_data = assert_batch_matches_single_messages(campaign, variants)

    assert "a%20b%3F%C3%BC" in merge_data[delivery.token]["h_preferences_url"]

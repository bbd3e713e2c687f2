"""The open pixel records one event per hit, in two statements, by the same rules."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from newsletter.models import TrackingEvent
from newsletter.tracking.hits import hit_commit_sql
from newsletter.tracking.tokens import pixel_url
from newsletter.views import PIXEL_GIF

pytestmark = pytest.mark.django_db


def test_a_consenting_readers_open_is_one_event_in_two_inserts(
    client, delivery_for
) -> None:
    delivery = delivery_for(tracking_consent=True)

    with CaptureQueriesContext(connection) as queries:
        response = client.get(
            pixel_url(delivery.token), HTTP_USER_AGENT="Thunderbird/128.0"
        )

    assert response.status_code == 200
    assert response.content == PIXEL_GIF
    # The event, and the device for the estimate (which writes nothing for a
    # reader who is not an MP): no read before either.
    # On PostgreSQL each first sets its own commit not to wait for the disk.
    statements = [
        query["sql"].removeprefix(hit_commit_sql()[0])
        for query in queries.captured_queries
    ]
    assert len(statements) == 2
    assert all(sql.startswith("INSERT INTO") for sql in statements)
    event = TrackingEvent.objects.get()
    assert (event.delivery_id, event.kind, event.source) == (
        delivery.pk,
        TrackingEvent.Kind.OPENED,
        TrackingEvent.Source.PIXEL,
    )
    assert (event.is_machine, event.user_agent_family) == (False, "Thunderbird")


def test_apples_proxy_open_is_recorded_as_a_machines(client, delivery_for) -> None:
    delivery = delivery_for(tracking_consent=True)

    client.get(pixel_url(delivery.token), HTTP_USER_AGENT="Mozilla/5.0")

    event = TrackingEvent.objects.get()
    assert (event.is_machine, event.machine_reason) == (True, "apple_mpp")


def test_without_consent_the_pixel_answers_and_records_nothing(
    client, delivery_for
) -> None:
    delivery = delivery_for(tracking_consent=False)

    response = client.get(pixel_url(delivery.token))

    assert (response.status_code, response.content) == (200, PIXEL_GIF)
    assert not TrackingEvent.objects.exists()


def test_an_unknown_token_gets_a_404_and_records_nothing(client, delivery_for) -> None:
    delivery_for(tracking_consent=True)

    response = client.get(pixel_url("A" * 22))

    assert response.status_code == 404
    assert not TrackingEvent.objects.exists()


def test_every_hit_is_an_event(client, delivery_for) -> None:
    delivery = delivery_for(tracking_consent=True)

    for _ in range(3):
        client.get(pixel_url(delivery.token))

    assert TrackingEvent.objects.filter(delivery=delivery).count() == 3

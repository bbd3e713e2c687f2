"""Signed tracking ids: a hit of a mail Relay sent is told from anything else without a read."""

from __future__ import annotations

import logging
import time

import pytest
from django.test import override_settings

from newsletter.models import Contact, Delivery, Link, OpenDevice, TrackingEvent
from newsletter.sending.dispatch import reader_tracking_id
from newsletter.tracking import buffer as buffer_module
from newsletter.tracking.drain import hits_drain
from newsletter.tracking.links import click_url
from newsletter.tracking.signed import tracking_id, tracking_id_parse
from newsletter.tracking.tokens import pixel_url
from tests.tracking import test_buffer, test_clicks

TARGET = test_clicks.TARGET
sent = test_clicks.sent
buffered = test_buffer.buffered
statements = test_buffer.statements

pytestmark = pytest.mark.django_db


@pytest.fixture
def tracking(sent) -> str:
    """Return the tracking id in the mail of the reader who consents to tracking."""
    return reader_tracking_id(sent["tracked"])


@pytest.fixture
def link(sent) -> Link:
    """Return the link to TARGET in the campaign's link map."""
    return Link.objects.get(campaign=sent["campaign"], url=TARGET)


TOKEN = "AbCdEfGhIjKlMnOpQrStUv"


def test_a_tracking_id_verifies_and_says_its_token_campaign_and_kind() -> None:
    value = tracking_id(TOKEN, campaign_id=42, passes_on=True)

    assert value.startswith(f"{TOKEN}.42.p.")
    assert tracking_id_parse(value) == (TOKEN, 42, True)
    assert tracking_id_parse(tracking_id(TOKEN, campaign_id=7, passes_on=False)) == (
        TOKEN,
        7,
        False,
    )


@pytest.mark.parametrize(
    "alter",
    [
        lambda v: v.replace(f"{TOKEN}.", "BbCdEfGhIjKlMnOpQrStUv.", 1),
        lambda v: v.replace(".42.", ".43.", 1),
        lambda v: v.replace(".42.", ".042.", 1),
        lambda v: v.replace(".p.", ".r.", 1),
        lambda v: v[:-1] + ("A" if v[-1] != "A" else "B"),
        lambda v: v[:-1],
        lambda v: v + ".x",
        lambda v: v.rsplit(".", 1)[0],
        lambda v: "..." + v,
        lambda v: v.replace(".", "%2E"),
    ],
)
def test_an_altered_tracking_id_does_not_verify(alter) -> None:
    value = tracking_id(TOKEN, campaign_id=42, passes_on=True)

    assert tracking_id_parse(alter(value)) is None


def test_ids_signed_with_a_retired_secret_still_verify(settings) -> None:
    old = tracking_id(TOKEN, campaign_id=42, passes_on=False)
    retired = settings.SECRET_KEY

    with override_settings(SECRET_KEY="a-new-secret-" + "x" * 40):
        assert tracking_id_parse(old) is None
        with override_settings(SECRET_KEY_FALLBACKS=[retired]):
            assert tracking_id_parse(old) == (TOKEN, 42, False)


def test_a_signed_hit_asks_no_database_and_is_written_by_the_drain(
    client, sent, buffered, tracking, link
) -> None:
    tracked = sent["tracked"]
    client.get(click_url(tracking, link.pk))  # the process reads the link once

    with statements() as sql:
        opened = client.get(pixel_url(tracking), HTTP_USER_AGENT="Thunderbird/128.0")
        clicked = client.get(click_url(tracking, link.pk))

    assert (opened.status_code, clicked["Location"]) == (200, TARGET)
    assert sql == []
    result = hits_drain()
    assert (result.read, result.written) == (3, 3)
    assert sorted(TrackingEvent.objects.values_list("delivery_id", "kind")) == [
        (tracked.pk, "clicked"),
        (tracked.pk, "clicked"),
        (tracked.pk, "opened"),
    ]


def test_a_tracking_id_that_does_not_verify_gets_a_404_and_leaves_nothing(
    client, sent, buffered, tracking, link
) -> None:
    forged = tracking[:-1] + ("A" if tracking[-1] != "A" else "B")

    assert client.get(pixel_url(forged)).status_code == 404
    assert client.get(click_url(forged, link.pk)).status_code == 404
    assert buffered.size() == 0


def test_a_signed_click_on_a_link_of_another_campaign_gets_a_404(
    client, sent, issue, buffered, tracking
) -> None:
    elsewhere = Link.objects.create(
        campaign=test_buffer._other_campaign(issue),
        url="https://example.org/elsewhere",
        position=0,
    )

    assert client.get(click_url(tracking, elsewhere.pk)).status_code == 404
    assert client.get(click_url(tracking, 10**12)).status_code == 404
    assert buffered.size() == 0


def test_a_withdrawn_readers_signed_hits_are_answered_and_left_out_when_written(
    client, sent, buffered, tracking, link
) -> None:
    tracked = sent["tracked"]
    Contact.objects.filter(pk=tracked.contact_id).update(tracking_consent=False)

    opened = client.get(pixel_url(tracking))
    clicked = client.get(click_url(tracking, link.pk))
    result = hits_drain()

    assert (opened.status_code, clicked["Location"]) == (200, TARGET)
    assert (result.written, result.withdrawn) == (0, 2)
    assert not TrackingEvent.objects.exists()


def test_a_deleted_deliverys_signed_pixel_is_answered_and_nothing_kept(
    client, sent, buffered, tracking
) -> None:
    Delivery.objects.filter(pk=sent["tracked"].pk).delete()

    assert client.get(pixel_url(tracking)).status_code == 200
    assert hits_drain().dropped == 1
    assert not TrackingEvent.objects.exists()


def test_an_mps_signed_open_carries_the_device_and_a_readers_does_not(
    client, delivery_for, buffered
) -> None:
    mp = delivery_for(tracking_consent=True, kind=Contact.Kind.MP)
    reader = delivery_for(tracking_consent=True, kind=Contact.Kind.NGO)

    for delivery in (mp, reader):
        client.get(
            pixel_url(reader_tracking_id(delivery)),
            HTTP_USER_AGENT=test_buffer.FIREFOX,
        )
    hits_drain()

    assert TrackingEvent.objects.count() == 2
    assert list(OpenDevice.objects.values_list("delivery_id", flat=True)) == [mp.pk]


def test_anonymous_mode_answers_signed_hits_and_keeps_nothing(
    client, sent, buffered, settings, tracking, link
) -> None:
    settings.RELAY_ANONYMOUS_TRACKING = True  # after the mail was sent

    opened = client.get(pixel_url(tracking))
    clicked = client.get(click_url(tracking, link.pk))

    assert (opened.status_code, clicked["Location"]) == (200, TARGET)
    assert buffered.size() == 0


def test_without_a_buffer_a_signed_hit_is_written_in_its_request(
    client, sent, tracking, link
) -> None:

    client.get(pixel_url(tracking))
    client.get(click_url(tracking, link.pk))

    assert sorted(TrackingEvent.objects.values_list("kind", flat=True)) == [
        "clicked",
        "opened",
    ]


def test_when_redis_is_down_a_signed_hit_is_written_in_the_request(
    client, sent, settings, tracking
) -> None:
    settings.RELAY_TRACKING_BUFFER = "redis://127.0.0.1:1/0"  # nothing listens

    assert client.get(pixel_url(tracking)).status_code == 200
    assert TrackingEvent.objects.filter(kind="opened").count() == 1


def test_a_hit_redis_refuses_is_logged_when_its_answer_is_read(
    client, sent, buffered, caplog, tracking
) -> None:
    buffered.client.set(buffered.key, "not a list")  # every push is refused

    with caplog.at_level(logging.ERROR, logger="newsletter.tracking.buffer"):
        answered = [client.get(pixel_url(tracking)).status_code for _ in range(40)]
        # Sent in batches, their answers read as they come; the rest here.
        buffered.settle()

    assert answered == [200] * 40
    refused = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
    assert sum(int(message.split()[3]) for message in refused) == 40
    assert all("WRONGTYPE" in message for message in refused)


def test_hits_wait_in_the_process_a_moment_and_go_to_redis_together(
    client, sent, buffered, monkeypatch, tracking
) -> None:
    monkeypatch.setattr(buffer_module, "_FLUSH_SECONDS", 3600)  # the thread waits
    client.get(pixel_url(tracking))  # the first goes at once: is Redis there?

    for _ in range(5):
        client.get(pixel_url(tracking))
    waiting = buffered.client.llen(buffered.key)
    buffered.settle()  # as when the process ends

    assert waiting == 1
    assert buffered.client.llen(buffered.key) == 6


def test_the_processs_thread_sends_hits_that_wait(
    client, sent, buffered, monkeypatch, tracking
) -> None:
    monkeypatch.setattr(buffer_module, "_FLUSH_SECONDS", 0.05)

    for _ in range(3):
        client.get(pixel_url(tracking))
    deadline = time.monotonic() + 5
    while buffered.client.llen(buffered.key) < 3 and time.monotonic() < deadline:
        time.sleep(0.02)

    assert buffered.client.llen(buffered.key) == 3

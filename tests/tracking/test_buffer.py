"""Hits buffered in Redis: decided in the request, written in bulk by the drain, by the same rules.

Mail carries signed tracking ids (tests/tracking/test_signed.py); a bare
token asks PostgreSQL once in the request.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from newsletter.models import (
    Campaign,
    Contact,
    Delivery,
    Link,
    OpenDevice,
    TrackingEvent,
)
from newsletter.tasks import tracking_hits_drain_task
from newsletter.tracking import drain, machine
from newsletter.tracking.buffer import (
    HitBuffer,
    click_hit,
    hit_buffer,
    hit_parse,
    open_hit,
)
from newsletter.tracking.drain import hits_drain
from newsletter.tracking.links import click_url
from newsletter.tracking.tokens import pixel_url
from newsletter.views import PIXEL_GIF
from tests.tracking import test_clicks

TARGET = test_clicks.TARGET
sent = test_clicks.sent  # the fixture: an issue sent to a tracked and a plain reader

pytestmark = pytest.mark.django_db

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0"


@contextmanager
def statements() -> Iterator[list[str]]:
    """Collect the SQL of every statement run on the connection in the block."""
    seen: list[str] = []

    def record(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        seen.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        yield seen


@pytest.fixture
def buffered(settings) -> Iterator[HitBuffer]:
    """Buffer hits in the suite's Redis, in a list of this test's own."""
    if not settings.CELERY_BROKER_URL.startswith("redis://"):
        pytest.skip("needs Redis: set CELERY_BROKER_URL=redis://... (CI does)")
    settings.RELAY_TRACKING_BUFFER = settings.CELERY_BROKER_URL
    settings.RELAY_TRACKING_BUFFER_KEY = f"relay:test:{uuid.uuid4().hex}:hits"
    buffer = hit_buffer()
    assert buffer is not None
    try:
        yield buffer
    finally:
        # The list and its drain lock.
        buffer.client.delete(*buffer.client.keys(f"{buffer.key}*") or [buffer.key])


def test_a_buffered_open_is_one_read_in_the_request_and_an_event_once_drained(
    client, delivery_for, buffered
) -> None:
    delivery = delivery_for(tracking_consent=True)

    with statements() as sql:
        response = client.get(
            pixel_url(delivery.token), HTTP_USER_AGENT="Thunderbird/128.0"
        )

    assert (response.status_code, response.content) == (200, PIXEL_GIF)
    # A bare token (mail carries signed ids, tests/tracking/test_signed.py):
    # the reader's consent and kind by the token's unique index; nothing written.
    assert [statement.split()[0] for statement in sql] == ["SELECT"]
    assert not TrackingEvent.objects.exists()
    assert buffered.size() == 1

    result = hits_drain()

    assert (result.read, result.written, result.dropped) == (1, 1, 0)
    assert buffered.size() == 0
    event = TrackingEvent.objects.get()
    assert (event.delivery_id, event.kind, event.source) == (
        delivery.pk,
        TrackingEvent.Kind.OPENED,
        TrackingEvent.Source.PIXEL,
    )
    assert (event.is_machine, event.user_agent_family) == (False, "Thunderbird")
    assert event.occurred_at == timezone.now()  # the hit's time, not the drain's


def test_a_buffered_open_by_apples_proxy_is_a_machines(
    client, delivery_for, buffered
) -> None:
    delivery = delivery_for(tracking_consent=True)

    client.get(pixel_url(delivery.token), HTTP_USER_AGENT="Mozilla/5.0")
    hits_drain()

    event = TrackingEvent.objects.get()
    assert (event.is_machine, event.machine_reason) == (True, "apple_mpp")


def test_an_unknown_token_gets_a_404_and_nothing_is_buffered(
    client, delivery_for, buffered
) -> None:
    delivery = delivery_for(tracking_consent=True)
    link = Link.objects.create(
        campaign=delivery.campaign, url="https://example.org/", position=0
    )

    pixel = client.get(pixel_url("A" * 22))
    click = client.get(click_url("A" * 22, link.pk))

    assert (pixel.status_code, click.status_code) == (404, 404)
    assert buffered.size() == 0


def test_consent_is_read_when_the_hit_happens_and_again_when_it_is_written(
    client, delivery_for, buffered
) -> None:
    withdrawing = delivery_for(tracking_consent=True)
    consenting = delivery_for(tracking_consent=False)
    kept = delivery_for(tracking_consent=True)

    first = client.get(pixel_url(withdrawing.token))
    second = client.get(pixel_url(consenting.token))
    third = client.get(pixel_url(kept.token))
    Contact.objects.filter(pk=withdrawing.contact_id).update(tracking_consent=False)
    Contact.objects.filter(pk=consenting.contact_id).update(tracking_consent=True)
    result = hits_drain()

    assert (first.status_code, second.status_code, third.status_code) == (200,) * 3
    # Without consent at hit time nothing was buffered; a hit of a reader who
    # withdrew before it was written is left out.
    assert (result.read, result.written, result.withdrawn) == (2, 1, 1)
    assert list(TrackingEvent.objects.values_list("delivery_id", flat=True)) == [
        kept.pk
    ]


def test_anonymous_mode_buffers_nothing_and_still_tells_unknown_tokens(
    client, delivery_for, buffered, settings
) -> None:
    settings.RELAY_ANONYMOUS_TRACKING = True
    delivery = delivery_for(tracking_consent=True)

    known = client.get(pixel_url(delivery.token))
    unknown = client.get(pixel_url("B" * 22))

    assert (known.status_code, unknown.status_code) == (200, 404)
    assert buffered.size() == 0


def test_an_mps_device_is_remembered_once_when_the_hits_are_written(
    client, delivery_for, buffered
) -> None:
    delivery = delivery_for(tracking_consent=True, kind=Contact.Kind.MP)
    first_seen = timezone.now()

    for _ in range(2):
        client.get(pixel_url(delivery.token), HTTP_USER_AGENT=FIREFOX)
    hits_drain()
    client.get(pixel_url(delivery.token), HTTP_USER_AGENT=FIREFOX)
    hits_drain()

    assert TrackingEvent.objects.count() == 3
    device = OpenDevice.objects.get()
    assert (device.delivery_id, device.is_machine, device.first_seen) == (
        delivery.pk,
        False,
        first_seen,
    )
    assert len(device.fingerprint) == 64


def test_a_buffered_click_is_one_read_and_redirects_to_the_stored_url(
    client, sent, buffered
) -> None:
    delivery = sent["tracked"]
    link = Link.objects.get(campaign=sent["campaign"], url=TARGET)

    with statements() as sql:
        response = client.get(
            click_url(delivery.token, link.pk) + "?url=https://evil.example/",
            HTTP_USER_AGENT=FIREFOX,
        )
    scanner = client.get(
        click_url(delivery.token, link.pk), HTTP_USER_AGENT="python-requests/2.32"
    )
    hits_drain()

    assert (response.status_code, response["Location"]) == (302, TARGET)
    assert scanner["Location"] == TARGET
    assert [statement.split()[0] for statement in sql] == ["SELECT"]
    assert list(
        TrackingEvent.objects.order_by("pk").values_list(
            "delivery_id", "kind", "source", "link", "is_machine", "machine_reason"
        )
    ) == [
        (delivery.pk, "clicked", "redirect", TARGET, False, ""),
        (delivery.pk, "clicked", "redirect", TARGET, True, "scanner_agent"),
    ]


def test_buffered_clicks_outside_the_link_map_get_a_404_and_buffer_nothing(
    client, sent, issue, buffered
) -> None:
    delivery = sent["tracked"]
    elsewhere = Link.objects.create(
        campaign=_other_campaign(issue), url="https://example.org/elsewhere", position=0
    )

    other_campaign = client.get(click_url(delivery.token, elsewhere.pk))
    no_link = client.get(click_url(delivery.token, 10**12))

    assert (other_campaign.status_code, no_link.status_code) == (404, 404)
    assert buffered.size() == 0


def _other_campaign(issue) -> Campaign:
    return Campaign.objects.create(name="Another issue", page=issue)


def test_a_withdrawn_readers_buffered_click_redirects_and_leaves_no_trace(
    client, sent, buffered
) -> None:
    delivery = sent["tracked"]
    link = Link.objects.get(campaign=sent["campaign"], url=TARGET)
    Contact.objects.filter(pk=delivery.contact_id).update(tracking_consent=False)

    response = client.get(click_url(delivery.token, link.pk))

    assert response["Location"] == TARGET
    assert buffered.size() == 0


def test_a_scanner_burst_is_classified_when_the_clicks_are_written(
    client, sent, buffered
) -> None:
    delivery = sent["tracked"]
    Delivery.objects.filter(pk=delivery.pk).update(
        sent_at=timezone.now() - timedelta(seconds=5)
    )
    first = Link.objects.get(campaign=sent["campaign"], url=TARGET)
    second = Link.objects.create(
        campaign=sent["campaign"], url="https://example.org/other", position=99
    )

    client.get(click_url(delivery.token, first.pk), HTTP_USER_AGENT=FIREFOX)
    hits_drain()
    assert not TrackingEvent.objects.get().is_machine  # one link: a keen reader
    client.get(click_url(delivery.token, first.pk), HTTP_USER_AGENT=FIREFOX)
    client.get(click_url(delivery.token, second.pk), HTTP_USER_AGENT=FIREFOX)
    hits_drain()

    # The burst's earlier clicks, written by an earlier drain or by this one,
    # are reclassified with it.
    assert list(
        TrackingEvent.objects.order_by("pk").values_list(
            "link", "is_machine", "machine_reason"
        )
    ) == [
        (TARGET, True, "scanner_burst"),
        (TARGET, True, "scanner_burst"),
        (second.url, True, "scanner_burst"),
    ]


def test_buffered_clicks_a_day_after_delivery_are_a_persons(
    client, sent, buffered
) -> None:
    delivery = sent["tracked"]
    Delivery.objects.filter(pk=delivery.pk).update(
        sent_at=timezone.now() - timedelta(days=1)
    )
    second = Link.objects.create(
        campaign=sent["campaign"], url="https://example.org/other", position=99
    )
    for link in (Link.objects.get(campaign=sent["campaign"], url=TARGET), second):
        client.get(click_url(delivery.token, link.pk))
    hits_drain()

    assert list(TrackingEvent.objects.values_list("is_machine", flat=True)) == [
        False,
        False,
    ]


def test_garbage_in_the_buffer_is_dropped_with_a_log_and_nothing_corrupt_is_stored(
    client, sent, buffered, caplog
) -> None:
    delivery = sent["tracked"]
    client.get(pixel_url(delivery.token))  # the one good hit
    valid = json.loads(buffered.client.lindex(buffered.key, 0))
    other = Link.objects.create(
        campaign=_other_campaign(sent["campaign"].page),
        url="https://example.org/elsewhere",
        position=0,
    )
    garbage = [
        b"not json",
        b"\xff\xfe",
        json.dumps([1, 2, 3]),
        json.dumps({**valid, "k": "x"}),
        json.dumps({**valid, "t": "short"}),
        json.dumps({**valid, "t": "C" * 22}),  # a token of no delivery
        json.dumps({**valid, "at": "yesterday"}),
        json.dumps({**valid, "at": 1e300}),
        json.dumps({**valid, "m": "no"}),
        json.dumps({**valid, "m": True, "r": "because"}),
        json.dumps({**valid, "m": False, "r": "scanner_agent"}),
        json.dumps({**valid, "f": "x" * 65}),
        json.dumps({**valid, "d": "not a fingerprint"}),
        json.dumps({**valid, "k": "c", "l": True}),
        json.dumps({**valid, "k": "c", "l": -1}),
        json.dumps({**valid, "k": "c", "l": other.pk}),  # another campaign's link
    ]
    buffered.client.rpush(buffered.key, *garbage)

    with caplog.at_level(logging.WARNING, logger="newsletter.tracking.drain"):
        result = hits_drain()

    assert (result.read, result.written, result.dropped) == (17, 1, 16)
    assert len(caplog.records) == 16
    assert buffered.size() == 0
    event = TrackingEvent.objects.get()
    assert (event.delivery_id, event.kind, event.link) == (delivery.pk, "opened", "")
    assert not OpenDevice.objects.exclude(delivery=delivery).exists()


def test_the_drain_writes_in_batches_until_the_buffer_is_empty(
    client, delivery_for, buffered, monkeypatch
) -> None:
    monkeypatch.setattr(drain, "DRAIN_BATCH", 2)
    delivery = delivery_for(tracking_consent=True)
    for _ in range(5):
        client.get(pixel_url(delivery.token))

    written = tracking_hits_drain_task()

    assert written == 5
    assert buffered.size() == 0
    assert TrackingEvent.objects.count() == 5


def test_a_drain_returns_at_once_while_another_holds_the_lock(
    client, delivery_for, buffered
) -> None:
    delivery = delivery_for(tracking_consent=True)
    client.get(pixel_url(delivery.token))
    lock = buffered.lock()
    assert lock.acquire(blocking=False)
    try:
        result = hits_drain()
    finally:
        lock.release()

    assert result.busy
    assert buffered.size() == 1
    assert not TrackingEvent.objects.exists()


def test_the_drain_command_writes_what_is_buffered(
    client, delivery_for, buffered, capsys
) -> None:
    delivery = delivery_for(tracking_consent=True)
    client.get(pixel_url(delivery.token))

    call_command("tracking_drain", "--wait", "5")

    assert "1 events written, 0 entries dropped." in capsys.readouterr().out
    assert TrackingEvent.objects.count() == 1


def test_when_redis_cannot_take_a_hit_it_is_written_in_the_request(
    client, delivery_for, settings
) -> None:
    settings.RELAY_TRACKING_BUFFER = "redis://127.0.0.1:1/0"  # nothing listens
    delivery = delivery_for(tracking_consent=True)
    link = Link.objects.create(
        campaign=delivery.campaign, url="https://example.org/", position=0
    )

    pixel = client.get(pixel_url(delivery.token))
    click = client.get(click_url(delivery.token, link.pk))

    assert (pixel.status_code, click["Location"]) == (200, "https://example.org/")
    assert sorted(TrackingEvent.objects.values_list("kind", flat=True)) == [
        "clicked",
        "opened",
    ]


def test_without_a_buffer_each_hit_is_written_in_its_request(
    client, delivery_for
) -> None:
    assert settings.RELAY_TRACKING_BUFFER == "database"  # the embedded default
    delivery = delivery_for(tracking_consent=True)

    client.get(pixel_url(delivery.token))

    assert TrackingEvent.objects.count() == 1
    assert hits_drain().read == 0


@pytest.mark.parametrize("family", ['Evil"},"k":"c', "back\\slash", "Ünïcode ✓", ""])
def test_an_entry_keeps_any_agent_family_as_it_was(family) -> None:
    verdict = machine.Verdict(False, "")

    opened = hit_parse(open_hit(token="A" * 22, verdict=verdict, family=family))
    clicked = hit_parse(
        click_hit(token="A" * 22, link_id=7, verdict=verdict, family=family)
    )

    assert (opened.kind, opened.family, opened.fingerprint) == ("o", family, "")
    assert (clicked.kind, clicked.family, clicked.link_id) == ("c", family, 7)

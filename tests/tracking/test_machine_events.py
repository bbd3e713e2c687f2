"""Machine opens and clicks are recorded, flagged and kept apart from people's."""

from __future__ import annotations

import pytest

from newsletter.models import TrackingEvent
from newsletter.tracking.events import open_record

from .conftest import load, post

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("provider", ["mailgun", "brevo", "sendgrid"])
def test_apple_privacy_proxy_opens_are_flagged_as_machine(
    client, delivery_for, provider, django_capture_on_commit_callbacks
) -> None:
    delivery = delivery_for(provider)

    post(
        client,
        provider,
        load(provider, "opened_apple_proxy", delivery),
        capture=django_capture_on_commit_callbacks,
    )

    event = TrackingEvent.objects.get()
    assert (event.kind, event.is_machine, event.machine_reason) == (
        "opened",
        True,
        "apple_mpp",
    )


@pytest.mark.parametrize(
    "provider", ["mailgun", "postmark", "amazon_ses", "brevo", "sendgrid"]
)
def test_a_readers_open_and_click_are_human(
    client, delivery_for, provider, django_capture_on_commit_callbacks
) -> None:
    delivery = delivery_for(provider)

    for name in ("opened", "clicked"):
        post(
            client,
            provider,
            load(provider, name, delivery),
            capture=django_capture_on_commit_callbacks,
        )

    events = TrackingEvent.objects.order_by("kind")
    assert [(e.kind, e.is_machine) for e in events] == [
        ("clicked", False),
        ("opened", False),
    ]
    assert events[0].link == "https://example.org/more"


def test_a_known_scanner_agent_click_is_flagged(
    client, delivery_for, django_capture_on_commit_callbacks
) -> None:
    delivery = delivery_for("postmark")

    post(
        client,
        "postmark",
        load("postmark", "scanner_click", delivery),
        capture=django_capture_on_commit_callbacks,
    )

    event = TrackingEvent.objects.get()
    assert (event.is_machine, event.machine_reason) == (True, "scanner_agent")


def test_clicks_on_every_link_seconds_after_delivery_are_a_scanner_burst(
    client, delivery_for, django_capture_on_commit_callbacks
) -> None:
    delivery = delivery_for("postmark")
    for number, link in enumerate(("https://example.org/a", "https://example.org/b")):
        payload = load("postmark", "clicked", delivery)
        payload["ReceivedAt"] = f"2026-11-20T10:00:0{5 + number}Z"
        payload["OriginalLink"] = link
        post(client, "postmark", payload, capture=django_capture_on_commit_callbacks)

    assert list(TrackingEvent.objects.values_list("is_machine", "machine_reason")) == [
        (True, "scanner_burst"),
        (True, "scanner_burst"),
    ]


def test_no_open_or_click_is_kept_without_tracking_consent(
    client, delivery_for, django_capture_on_commit_callbacks
) -> None:
    delivery = delivery_for("postmark", tracking_consent=False)

    for name in ("delivered", "opened", "clicked"):
        post(
            client,
            "postmark",
            load("postmark", name, delivery),
            capture=django_capture_on_commit_callbacks,
        )

    assert list(TrackingEvent.objects.values_list("kind", flat=True)) == ["delivered"]


def test_the_pixel_flags_apples_privacy_proxy(delivery_for) -> None:
    delivery = delivery_for()

    apple = open_record(delivery=delivery, user_agent="Mozilla/5.0")
    person = open_record(delivery=delivery, user_agent="Thunderbird/128.0")

    assert apple is not None and person is not None
    assert (apple.is_machine, apple.machine_reason) == (True, "apple_mpp")
    assert (person.is_machine, person.machine_reason) == (False, "")

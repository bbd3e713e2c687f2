"""Pure classification: bounces from raw provider events, machines from their traces."""

from __future__ import annotations

import pytest

from newsletter.tracking import bounces, machine
from newsletter.tracking.bounces import BLOCK, HARD, SOFT


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("550 5.1.1 <ana@example.org>: Recipient address rejected: User unknown", HARD),
        ("550 5.1.2 Host unknown", HARD),
        ("550 5.1.10 Recipient address rejected: null MX", HARD),
        ("452 4.2.2 Mailbox full", SOFT),
        ("552 5.2.2 Mailbox full", SOFT),
        ("421 4.4.2 Connection timed out", SOFT),
        ("550 5.7.1 Message rejected due to local policy", BLOCK),
        (
            "550 5.7.515 Access denied, sending domain does not meet the required authentication level",
            BLOCK,
        ),
        ("554 Service unavailable; client host blocked using Spamhaus", BLOCK),
        ("550 No such user here", HARD),
        ("Something odd happened", SOFT),
    ],
)
def test_diagnostic_texts_decide_the_class(text: str, expected: str) -> None:
    assert (
        bounces.bounce_classify(provider="other", esp_event={"reason": text})
        == expected
    )


@pytest.mark.parametrize(
    ("bounce", "expected"),
    [
        ({"bounceType": "Permanent", "bounceSubType": "General"}, HARD),
        ({"bounceType": "Permanent", "bounceSubType": "NoEmail"}, HARD),
        ({"bounceType": "Permanent", "bounceSubType": "UnsubscribedRecipient"}, SOFT),
        ({"bounceType": "Transient", "bounceSubType": "MailboxFull"}, SOFT),
        ({"bounceType": "Undetermined", "bounceSubType": "Undetermined"}, SOFT),
    ],
)
def test_amazon_ses_bounce_types_are_read_not_only_anymails_bounced(
    bounce: dict[str, str], expected: str
) -> None:
    event = {"eventType": "Bounce", "bounce": {**bounce, "bouncedRecipients": []}}

    assert bounces.bounce_classify(provider="amazon_ses", esp_event=event) == expected


@pytest.mark.parametrize(
    ("provider", "event", "expected"),
    [
        ("brevo", {"event": "hard_bounce"}, HARD),
        ("brevo", {"event": "soft_bounce"}, SOFT),
        ("postmark", {"Type": "HardBounce"}, HARD),
        ("postmark", {"Type": "SoftBounce"}, SOFT),
        ("postmark", {"Type": "Transient"}, SOFT),
        ("postmark", {"Type": "Blocked"}, BLOCK),
        ("mailgun", {"event-data": {"severity": "permanent"}}, HARD),
        ("mailgun", {"event-data": {"severity": "temporary"}}, SOFT),
    ],
)
def test_provider_bounce_types_decide_when_there_is_no_status_code(
    provider: str, event: dict[str, object], expected: str
) -> None:
    assert bounces.bounce_classify(provider=provider, esp_event=event) == expected


def test_a_policy_status_code_outranks_a_providers_hard_bounce() -> None:
    event = {"Type": "HardBounce", "Details": "smtp;550 5.7.1 rejected by policy"}

    assert bounces.bounce_classify(provider="postmark", esp_event=event) == BLOCK


@pytest.mark.parametrize(
    ("agent", "reason"),
    [
        ("Mozilla/5.0", machine.APPLE_MPP),
        (
            "YahooMailProxy; https://help.yahoo.com/kb/yahoo-mail-proxy-SLN28749.html",
            machine.IMAGE_PROXY,
        ),
        ("Mozilla/5.0 (compatible; Proofpoint URL Defense)", machine.SCANNER_AGENT),
        ("Mozilla/5.0 (Windows NT 10.0) BingPreview/1.0b", machine.SCANNER_AGENT),
        ("python-requests/2.32", machine.SCANNER_AGENT),
    ],
)
def test_machine_agents_are_flagged_with_their_reason(agent: str, reason: str) -> None:
    assert machine.open_verdict(user_agent=agent) == machine.Verdict(True, reason)


@pytest.mark.parametrize(
    "agent",
    [
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/131.0",
        "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)",
        "Thunderbird/128.0",
        "",
    ],
)
def test_people_and_open_time_proxies_are_human(agent: str) -> None:
    assert machine.open_verdict(user_agent=agent) == machine.HUMAN


def test_providers_word_on_proxy_opens_is_taken() -> None:
    brevo = {"event": "unique_proxy_open"}
    sendgrid = {"event": "open", "sg_machine_open": True}

    for event in (brevo, sendgrid):
        verdict = machine.open_verdict(user_agent="Anything", esp_event=event)
        assert verdict == machine.Verdict(True, machine.APPLE_MPP)


def test_apples_proxy_agent_does_not_make_a_click_a_machines() -> None:
    # Privacy Protection does not touch clicks: a click is a person's.
    assert machine.click_verdict(user_agent="Mozilla/5.0") == machine.HUMAN


def test_clicks_on_several_links_within_seconds_of_delivery_are_a_scanner() -> None:
    burst = [(3.0, "https://example.org/a"), (4.0, "https://example.org/b")]

    verdict = machine.click_verdict(user_agent="", seconds_after_delivery=burst)

    assert verdict == machine.Verdict(True, machine.SCANNER_BURST)


@pytest.mark.parametrize(
    ("clicks", "links"),
    [
        ([(3.0, "https://example.org/a")], None),  # one quick click
        ([(3.0, "https://example.org/a"), (4.0, "https://example.org/a")], None),
        ([(300.0, "https://example.org/a"), (310.0, "https://example.org/b")], None),
        ([(3.0, "https://example.org/a")], 1),
    ],
)
def test_a_reader_clicking_is_not_a_burst(
    clicks: list[tuple[float, str]], links: int | None
) -> None:
    assert not machine.click_burst(
        seconds_after_delivery=clicks, links_in_message=links
    )

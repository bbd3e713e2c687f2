"""The scripted reach scenario of issue 6, with its known answers.

120 MPs in 16 countries get a report-back pack, 9 parliaments have a focal
point, 40 forwards through Relay reach 200 colleagues of whom 130 open, and
70 shared-link and QR visits come from 55 distinct people; machines open the
mail of 30% of the MPs (Apple Mail Privacy Protection) and scanners click for
10%. Everything happens through the real code paths: the sender, the open
pixel and click redirect, the MP's own web version, the forward form (GET,
then POST with its key), the colleagues' pixel and the shared links.

``scenario_build`` returns the figures every report must show (``EXPECTED``):
the reach report, the CSV export, and later the dashboard and the XLSX file.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.test import Client

from newsletter.models import (
    Campaign,
    Contact,
    Delivery,
    ForwardRecipient,
    Link,
    Subscription,
)
from newsletter.sending.campaigns import campaign_create
from newsletter.sending.dispatch import delivery_send_batch, reader_tracking_id
from newsletter.sending.prepare import campaign_prepare
from tests.factories import ContactFactory, MailingListFactory

COUNTRIES = [
    "AT", "BE", "BG", "CZ", "DE", "EL", "ES", "FR",
    "HR", "IT", "NL", "PL", "PT", "RO", "SE", "SK",
]  # fmt: skip
MPS = 120
HUMAN_OPENERS = range(0, 80)  # MPs who open their mail themselves
APPLE_OPENS = range(0, 36)  # 30%: Apple Mail Privacy Protection fetches the pixel
SCANNED = range(80, 92)  # 10%: a link scanner clicks the briefing link
HUMAN_CLICKERS = range(60, 70)
NO_CONSENT = range(110, 120)  # no pixel, no tracked links: direct reach only
EXTRA_DEVICES = dict.fromkeys(range(0, 10), 3) | dict.fromkeys(range(10, 15), 1)
FORWARDERS = range(0, 20)  # 2 forwards each, 5 colleagues a forward
LINK_SHARERS = range(20, 30)
QR_SHARERS = range(30, 35)

HUMAN = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Thunderbird/128.3.0"
APPLE_PROXY = "Mozilla/5.0"
SCANNER = "Mozilla/5.0 (compatible; Microsoft Defender SafeLinks scanner)"
BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:131.0) Gecko/20100101 Firefox/131.0"

EXPECTED = {
    "direct_reach": 120,
    "engaged_direct_reach": 80,
    "countries_reached": 16,
    "focal_point_parliaments": 9,
    "human_opens": 80,
    "machine_opens": 36,
    "human_clicks": 10,
    "machine_clicks": 12,
    "forwards_sent": 40,
    "forward_recipients": 200,
    "forward_readers": 130,
    "shared_visitors": 55,
    "link_visitors": 45,
    "qr_visitors": 10,
    "machine_visits": 8,
    # 130 forward readers + 55 visitors; the estimate is never added.
    "indirect_reach": 185,
    # MPs 0-9: 1 own + 3 further devices, 2 beyond the first 2 each.
    "indirect_estimated": 20,
}


@dataclass
class Scenario:
    campaign: Campaign
    mps: list[Contact]
    deliveries: dict[int, Delivery]
    expected: dict[str, int] = field(default_factory=lambda: dict(EXPECTED))


def _focal_points() -> None:
    """Make 9 parliaments with a focal point, plus two that must not count again."""
    for index in range(9):
        ContactFactory(
            kind=Contact.Kind.PARLIAMENT_STAFF,
            country=COUNTRIES[index],
            parliament=f"Parliament {index}",
            is_focal_point=True,
        )
    # A second focal point of parliament 0 (same parliament), and one who left.
    ContactFactory(
        country=COUNTRIES[0], parliament=" parliament 0", is_focal_point=True
    )
    ContactFactory(
        country=COUNTRIES[10],
        parliament="Parliament 10",
        is_focal_point=True,
        status=Contact.Status.UNSUBSCRIBED,
    )


def _form_key(page: str) -> str:
    return re.search(r'name="key" value="([^"]+)"', page).group(1)


def _forward(
    client: Client,
    delivery: Delivery,
    addresses: list[str],
    capture: Any,
    *,
    times: int = 1,
) -> None:
    url = f"/en/forward/{delivery.token}/"
    key = _form_key(client.get(url).content.decode())
    for _ in range(times):
        with capture(execute=True):
            response = client.post(
                url,
                {
                    "addresses": "\n".join(addresses),
                    "note": "Worth reading.",
                    "key": key,
                },
            )
        assert response.status_code == 200, response.content


def scenario_build(
    *, pack: Any, client: Client, capture: Callable[..., Any]
) -> Scenario:
    """Build the scenario through the real code paths; return it with its expected figures."""
    _focal_points()
    mailing_list = MailingListFactory()
    mps = [
        ContactFactory(
            kind=Contact.Kind.MP,
            email=f"mp{index}@parliament-{COUNTRIES[index % 16].lower()}.example",
            country=COUNTRIES[index % 16],
            parliament=f"Parliament {index % 16}",
            tracking_consent=index not in NO_CONSENT,
            subscribed_to=[mailing_list],
        )
        for index in range(MPS)
    ]
    # Other readers of the list: in the audience, never in direct reach.
    for _ in range(10):
        ContactFactory(kind=Contact.Kind.NGO, subscribed_to=[mailing_list])
    campaign = campaign_create(page=pack, lists=[mailing_list])
    ids = campaign_prepare(campaign_id=campaign.pk)
    Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.SENDING)
    delivery_send_batch(campaign_id=campaign.pk, delivery_ids=ids)
    deliveries = {
        index: Delivery.objects.get(campaign=campaign, contact=mp)
        for index, mp in enumerate(mps)
    }
    assert all(d.status == Delivery.Status.SENT for d in deliveries.values())

    # The MPs' own mail: opens, clicks, machines, and extra devices.
    briefing = Link.objects.filter(campaign=campaign, url__endswith="/briefing/").get()
    for index, delivery in deliveries.items():
        # The URLs as mailed: signed tracking ids (a bare token without consent).
        tracking = reader_tracking_id(delivery) or delivery.token
        pixel = f"/t/o/{tracking}.gif"
        if index in APPLE_OPENS:
            client.get(pixel, HTTP_USER_AGENT=APPLE_PROXY, REMOTE_ADDR="17.58.0.1")
        if index in HUMAN_OPENERS:
            client.get(pixel, HTTP_USER_AGENT=HUMAN, REMOTE_ADDR=f"10.{index}.0.1")
            client.get(pixel, HTTP_USER_AGENT=HUMAN, REMOTE_ADDR=f"10.{index}.0.2")
        for device in range(EXTRA_DEVICES.get(index, 0)):
            client.get(
                pixel,
                HTTP_USER_AGENT=f"{HUMAN} device-{device}",
                REMOTE_ADDR=f"192.168.{device}.{index}",
            )
        click = f"/t/c/{tracking}/{briefing.pk}/"
        if index in SCANNED:
            client.get(click, HTTP_USER_AGENT=SCANNER)
        if index in HUMAN_CLICKERS:
            client.get(click, HTTP_USER_AGENT=BROWSER)

    # Forwards through Relay: 40 requests, 200 colleagues; the last form is
    # submitted twice (a double click), which sends nothing more.
    order = list(FORWARDERS) * 2
    for number, index in enumerate(order):
        batch = [f"colleague{number * 5 + n}@parliament.example" for n in range(5)]
        _forward(
            client,
            deliveries[index],
            batch,
            capture,
            times=2 if number == len(order) - 1 else 1,
        )
    # 130 colleagues open (some twice), 20 others only through a privacy proxy.
    tokens = list(
        ForwardRecipient.objects.filter(status=ForwardRecipient.Status.SENT)
        .order_by("pk")
        .values_list("token", flat=True)
    )
    for position, token in enumerate(tokens):
        if position < 130:
            client.get(f"/t/f/{token}.gif", HTTP_USER_AGENT=HUMAN)
        if position < 10:
            client.get(f"/t/f/{token}.gif", HTTP_USER_AGENT=HUMAN)
        if 130 <= position < 150:
            client.get(f"/t/f/{token}.gif", HTTP_USER_AGENT=APPLE_PROXY)

    # Shared links and QR codes, taken from the MPs' own web versions.
    links = {}
    for index in [*LINK_SHARERS, *QR_SHARERS]:
        page = client.get(f"/en/read/{deliveries[index].token}/").content.decode()
        if index in LINK_SHARERS:
            links[index] = html.unescape(
                re.search(r'id="shared-link"[^>]*value="([^"]+)"', page).group(1)
            )
        else:
            qr_token = re.search(r"briefing/([A-Za-z0-9_-]+)/", page).group(1)
            links[index] = f"http://testserver/s/{qr_token}/"
    people = [Client() for _ in range(55)]
    visits = 0
    for person, browser in enumerate(people):
        sharer = 20 + person % 10 if person < 45 else 30 + person % 5
        path = links[sharer].removeprefix("http://testserver")
        response = browser.get(path, HTTP_USER_AGENT=BROWSER)
        assert response.status_code == 302
        visits += 1
        if person < 15:  # the same browser comes back: a visit, not a visitor
            browser.get(path, HTTP_USER_AGENT=BROWSER)
            visits += 1
    assert visits == 70
    # Machines on shared links: scanners, prefetches, HEAD requests.
    for number in range(8):
        path = links[20 + number].removeprefix("http://testserver")
        if number < 4:
            Client().get(path, HTTP_USER_AGENT=SCANNER)
        elif number < 6:
            Client().head(path, HTTP_USER_AGENT=BROWSER)
        else:
            Client().get(path, HTTP_USER_AGENT=BROWSER, HTTP_SEC_PURPOSE="prefetch")
    assert Subscription.objects.filter(mailing_list=mailing_list).count() == MPS + 10
    return Scenario(campaign=campaign, mps=mps, deliveries=deliveries)

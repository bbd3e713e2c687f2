"""The network of a device's fingerprint: cut as text for IPv4, as ``ipaddress`` would."""

import pytest
from django.utils.crypto import salted_hmac

from newsletter.tracking.referrals import (
    client_network,
    device_fingerprint,
    network_by_ipaddress,
)


@pytest.mark.parametrize(
    "client",
    [
        "203.0.113.7",
        "0.0.0.0",  # noqa: S104 - an address to parse, not to bind
        "255.255.255.255",
        "10.1.2.3",
        "256.1.2.3",
        "01.2.3.4",  # a leading zero: not an address for ipaddress
        "1.2.3",
        "1.2.3.4.5",
        "1.2.3.-4",
        "1.2.3.４",  # a full-width digit
        " 1.2.3.4",
        "1.2.3.4 ",
        "",
        "unknown",
        "2001:db8:1234:5678::1",
        "::ffff:203.0.113.7",
        "fe80::1%eth0",
    ],
)
def test_the_network_is_what_ipaddress_gives(client: str) -> None:
    assert client_network(client) == network_by_ipaddress(client)


def test_an_ipv4_network_is_its_slash_24() -> None:
    assert client_network("203.0.113.7") == "203.0.113.0/24"


def test_a_devices_fingerprint_is_the_keyed_hash_it_always_was() -> None:
    agent = "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0"

    assert (
        device_fingerprint(user_agent=f" {agent} ", client="203.0.113.7")
        == salted_hmac(
            "newsletter.device", f"{agent}|203.0.113.0/24", algorithm="sha256"
        ).hexdigest()
    )

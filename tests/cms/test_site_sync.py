"""``manage.py site_sync`` makes page URLs use the host that mails use."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings
from wagtail.models import Site


@pytest.mark.django_db
@override_settings(RELAY_BASE_URL="https://relay.example.org")
def test_the_default_site_takes_the_host_of_the_base_url(issue) -> None:
    out = io.StringIO()
    call_command("site_sync", stdout=out)

    site = Site.objects.get(is_default_site=True)
    assert (site.hostname, site.port) == ("relay.example.org", 443)
    assert issue.full_url.startswith("https://relay.example.org/")
    assert "relay.example.org:443" in out.getvalue()

    again = io.StringIO()
    call_command("site_sync", stdout=again)
    assert "already" in again.getvalue()


@pytest.mark.django_db
@override_settings(RELAY_BASE_URL="http://localhost:8000")
def test_a_port_in_the_base_url_is_kept() -> None:
    call_command("site_sync", stdout=io.StringIO())

    site = Site.objects.get(is_default_site=True)
    assert (site.hostname, site.port) == ("localhost", 8000)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "base_url", ["relay.example.org", "ftp://relay.example.org", "https://x.org/relay"]
)
def test_a_base_url_it_cannot_use_is_refused_and_the_site_kept(base_url: str) -> None:
    before = Site.objects.values_list("hostname", "port").get(is_default_site=True)

    with override_settings(RELAY_BASE_URL=base_url), pytest.raises(CommandError):
        call_command("site_sync", stdout=io.StringIO())

    after = Site.objects.values_list("hostname", "port").get(is_default_site=True)
    assert after == before

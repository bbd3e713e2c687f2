"""Fixtures for the public pages: a sent campaign's delivery, eager tasks, fresh forms."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.cache import cache
from django.utils import translation

from cms.celery import app
from newsletter.models import Contact, Delivery, MailingList
from newsletter.sending.campaigns import campaign_create
from tests.factories import ContactFactory, MailingListFactory

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def fresh_cache() -> Iterator[None]:
    """Start every test with no rate-limit counters."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def eager_tasks() -> Iterator[None]:
    """Run Celery tasks in-process as soon as they are queued."""
    app.conf.task_always_eager = True
    try:
        yield
    finally:
        app.conf.task_always_eager = False


@pytest.fixture
def clock() -> Iterator[time_machine.Coordinates]:
    """Freeze time (ticking off) at a known instant; move it with ``clock.shift``."""
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def public_list(db: None) -> MailingList:
    return MailingListFactory(name="Relay news", slug="relay-news", is_public=True)


@pytest.fixture
def make_delivery(issue) -> Callable[..., Delivery]:
    """Return a function that makes the delivery of a campaign to one contact."""

    def make(
        contact: Contact, mailing_list: MailingList, *, language: str = "en"
    ) -> Delivery:
        campaign = campaign_create(page=issue, lists=[mailing_list])
        return Delivery.objects.create(
            campaign=campaign,
            contact=contact,
            language=language,
            status=Delivery.Status.SENT,
        )

    return make


@pytest.fixture
def reader(db: None) -> Contact:
    return ContactFactory(email="ana@example.org", preferred_language="bg")


@pytest.fixture
def url_in() -> Callable[..., str]:
    """Return a function that reverses a public URL under a language prefix."""
    from django.urls import reverse

    def url(name: str, *args: str, language: str = "en") -> str:
        with translation.override(language):
            return reverse(name, args=args)

    return url


@pytest.fixture
def stamp(clock) -> str:
    """Return the stamp of a subscribe form shown ten seconds ago."""
    from newsletter.forms import form_stamp

    value = form_stamp()
    clock.shift(timedelta(seconds=10))
    return value

"""Fixtures for indirect reach: a pack sent to MPs, eager tasks, and the scripted scenario."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from cms.celery import app
from newsletter.models import Campaign, Contact, Delivery
from newsletter.sending.campaigns import campaign_create
from newsletter.sending.dispatch import delivery_send_batch
from newsletter.sending.prepare import campaign_prepare
from tests.factories import ContactFactory, MailingListFactory

from .scenario import Scenario, scenario_build


@pytest.fixture
def eager_tasks() -> Iterator[None]:
    """Run Celery tasks in-process as soon as they are queued."""
    app.conf.task_always_eager = True
    try:
        yield
    finally:
        app.conf.task_always_eager = False


@pytest.fixture
def send_pack(pack) -> Callable[..., Campaign]:
    """Return a function that sends the pack to the given contacts, through the real sender."""

    def send(contacts: list[Contact]) -> Campaign:
        mailing_list = MailingListFactory()
        for contact in contacts:
            contact.subscriptions.create(mailing_list=mailing_list, status="subscribed")
        campaign = campaign_create(page=pack, lists=[mailing_list])
        ids = campaign_prepare(campaign_id=campaign.pk)
        Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.SENDING)
        delivery_send_batch(campaign_id=campaign.pk, delivery_ids=ids)
        return campaign

    return send


@pytest.fixture
def mp_delivery(send_pack) -> Delivery:
    """The sent pack delivery of an English-speaking MP who consents to tracking."""
    mp = ContactFactory(
        kind=Contact.Kind.MP,
        first_name="Ana",
        last_name="Popescu",
        email="ana.popescu@parliament.example",
        country="RO",
        tracking_consent=True,
    )
    campaign = send_pack([mp])
    return Delivery.objects.get(campaign=campaign, contact=mp)


@pytest.fixture
def scenario(pack, client, django_capture_on_commit_callbacks, eager_tasks) -> Scenario:
    """The scripted scenario of issue 6, built through the real views and services."""
    return scenario_build(
        pack=pack, client=client, capture=django_capture_on_commit_callbacks
    )

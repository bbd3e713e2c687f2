"""Fixtures for reach: a pack sent to MPs, eager tasks, the scripted scenario, a ledger
with known answers for the dashboard, and users in each role."""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client

from cms.celery import app
from newsletter.models import (
    Campaign,
    Contact,
    Delivery,
    DeliveryOutcome,
    TrackingEvent,
)
from newsletter.sending.campaigns import campaign_create
from newsletter.sending.dispatch import delivery_send_batch
from newsletter.sending.prepare import campaign_prepare
from tests.factories import ContactFactory, MailingListFactory

from .scenario import Scenario, scenario_build

OCTOBER = datetime.datetime(2026, 10, 5, 9, 0, tzinfo=datetime.UTC)
NOVEMBER = datetime.datetime(2026, 11, 10, 9, 0, tzinfo=datetime.UTC)


def sent(campaign, contact, *, at, language="en", outcome=None) -> Delivery:
    delivery = Delivery.objects.create(
        campaign=campaign,
        contact=contact,
        language=language,
        country=contact.country,
        status=Delivery.Status.SENT,
        sent_at=at,
    )
    if outcome:
        DeliveryOutcome.objects.create(
            delivery=delivery, state=outcome, rank=DeliveryOutcome.RANKS[outcome]
        )
    return delivery


def event(delivery, kind, *, machine="") -> TrackingEvent:
    return TrackingEvent.objects.create(
        delivery=delivery,
        kind=kind,
        source="provider",
        occurred_at=delivery.sent_at,
        is_machine=bool(machine),
        machine_reason=machine,
    )


@dataclass
class Ledger:
    newsletter: Campaign
    pack: Campaign
    people: dict[str, Contact]


def mp(country: str, parliament: str, chamber: str = "", **fields) -> Contact:
    return ContactFactory(
        country=country, parliament=parliament, chamber=chamber, **fields
    )


@pytest.fixture
def ledger(home_page, pack) -> Ledger:
    """Two campaigns: a newsletter in October to everyone, a pack in November.

    Known answers, whole period: direct reach 8 (not the bounced French MP, not
    the NGO), countries 5 (DE, FR, RO, PL, ES), engaged 4 (de1, de2, ro1, mep),
    focal-point parliaments 2 (Bundestag; Senatul). November alone: direct 4
    (de1, de2, ro1, ro2), engaged 2 (de1, ro1), countries 2.
    """
    people = {
        "de1": mp("DE", "Bundestag", preferred_language="de"),
        "de2": mp("DE", "Bundestag", preferred_language="de", is_focal_point=True),
        "de3": mp("DE", "bundestag ", preferred_language="de"),
        "fr1": mp("FR", "Assemblée nationale", preferred_language="fr"),
        "fr_bounced": mp("FR", "Assemblée nationale", preferred_language="fr"),
        "ro1": mp("RO", "Parlamentul", "Senatul", preferred_language="ro"),
        "ro2": mp("RO", "Parlamentul", "Camera Deputaților", preferred_language="ro"),
        "mep": mp("PL", "European Parliament", kind=Contact.Kind.MEP),
        "es": mp("ES", ""),
        "ngo": ContactFactory(country="IT", kind=Contact.Kind.NGO),
        # A focal point of a parliament nobody was mailed in.
        "ro_focal": ContactFactory(
            country="RO",
            parliament="Parlamentul",
            chamber="Senatul ",
            kind=Contact.Kind.PARLIAMENT_STAFF,
            is_focal_point=True,
        ),
    }
    newsletter = Campaign.objects.create(name="Newsletter 1", page=home_page)
    newsletter.lists.set([MailingListFactory()])
    pack_campaign = Campaign.objects.create(name="Bucharest pack", page=pack)
    pack_campaign.lists.set([MailingListFactory()])
    october = {}
    for key, person in people.items():
        if key == "ro_focal":
            continue
        october[key] = sent(
            newsletter,
            person,
            at=OCTOBER,
            language=person.preferred_language,
            outcome="bounced" if key == "fr_bounced" else "delivered",
        )
    event(october["de1"], "opened", machine="apple_mpp")
    event(october["de1"], "opened")
    event(october["de2"], "clicked")
    event(october["de2"], "clicked", machine="scanner_agent")
    event(october["fr1"], "opened", machine="apple_mpp")
    event(october["fr_bounced"], "opened")  # bounced: reaches no one
    event(october["mep"], "opened")
    event(october["ngo"], "opened")
    event(october["es"], "clicked", machine="scanner_burst")

    november = {
        key: sent(pack_campaign, people[key], at=NOVEMBER, language=lang)
        for key, lang in (("de1", "de"), ("de2", "de"), ("ro1", "ro"), ("ro2", "ro"))
    }
    event(november["de1"], "opened")
    event(november["de1"], "forwarded")
    event(november["de1"], "forwarded")
    event(november["ro1"], "clicked")
    event(november["ro2"], "opened", machine="image_proxy")
    return Ledger(newsletter=newsletter, pack=pack_campaign, people=people)


def _user_in(group_name: str, username: str):
    user = get_user_model().objects.create_user(
        username, f"{username}@staff.example.org", "pw"
    )
    user.groups.add(Group.objects.get(name=group_name))
    return user


@pytest.fixture
def secretariat_client(db) -> Client:
    client = Client()
    client.force_login(_user_in("Secretariat", "secretary"))
    return client


@pytest.fixture
def translator_client(db) -> Client:
    client = Client()
    client.force_login(_user_in("Translators", "translator"))
    return client


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

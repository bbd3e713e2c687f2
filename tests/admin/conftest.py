"""Fixtures for the directory admin: users in each role and a sent campaign."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client
from django.utils import timezone
from wagtail.models import Page

from newsletter.models import (
    Campaign,
    Contact,
    Delivery,
    MailingList,
    TrackingEvent,
)
from tests.factories import MailingListFactory


def _user_in(group_name: str, username: str):
    user = get_user_model().objects.create_user(
        username, f"{username}@staff.example.org", "pw"
    )
    user.groups.add(Group.objects.get(name=group_name))
    return user


@pytest.fixture
def secretariat_user(db):
    return _user_in("Secretariat", "secretary")


@pytest.fixture
def translator_user(db):
    return _user_in("Translators", "translator")


@pytest.fixture
def secretariat_client(secretariat_user) -> Client:
    client = Client()
    client.force_login(secretariat_user)
    return client


@pytest.fixture
def translator_client(translator_user) -> Client:
    client = Client()
    client.force_login(translator_user)
    return client


@pytest.fixture
def send_campaign(db) -> Callable[..., Campaign]:
    """Return a function that records a sent campaign to ``contacts``.

    Each delivery is sent; ``opened`` contacts get a human open ``days_ago`` days
    back, and every delivery gets a machine open as well.
    """

    def make(
        contacts: list[Contact],
        *,
        opened: list[Contact] | None = None,
        clicked: list[Contact] | None = None,
        days_ago: int = 1,
        mailing_list: MailingList | None = None,
    ) -> Campaign:
        campaign = Campaign.objects.create(
            name="Issue one",
            page=Page.objects.filter(depth=2).first(),
            status=Campaign.Status.SENT,
        )
        campaign.lists.add(mailing_list or MailingListFactory())
        when = timezone.now() - timedelta(days=days_ago)
        for contact in contacts:
            delivery = Delivery.objects.create(
                campaign=campaign,
                contact=contact,
                language=contact.preferred_language,
                country=contact.country,
                status=Delivery.Status.SENT,
                sent_at=when,
            )
            TrackingEvent.objects.create(
                delivery=delivery,
                kind=TrackingEvent.Kind.OPENED,
                source=TrackingEvent.Source.PIXEL,
                occurred_at=when,
                is_machine=True,
            )
            if contact in (opened or []):
                TrackingEvent.objects.create(
                    delivery=delivery,
                    kind=TrackingEvent.Kind.OPENED,
                    source=TrackingEvent.Source.PIXEL,
                    occurred_at=when,
                )
            if contact in (clicked or []):
                TrackingEvent.objects.create(
                    delivery=delivery,
                    kind=TrackingEvent.Kind.CLICKED,
                    source=TrackingEvent.Source.REDIRECT,
                    occurred_at=when,
                )
        return campaign

    return make

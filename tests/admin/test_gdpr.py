"""GDPR export and erasure: services, admin actions and management commands."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from newsletter.audience.consent import subscription_subscribe
from newsletter.audience.gdpr import contact_erase, contact_export_data
from newsletter.audience.suppression import is_suppressed
from newsletter.models import ConsentRecord, Contact, Subscription, Suppression
from tests.factories import ContactFactory, MailingListFactory, TopicFactory


@pytest.fixture
def contact(db, send_campaign) -> Contact:
    contact = ContactFactory(
        email="ana.popescu@senat.example.ro",
        first_name="Ana",
        last_name="Popescu",
        country="RO",
        parliament="Parlamentul României",
        chamber="Senatul României",
    )
    contact.topics.add(TopicFactory(name="Child trafficking", slug="child"))
    subscription_subscribe(
        contact=contact,
        mailing_list=MailingListFactory(slug="network"),
        source=ConsentRecord.Source.FORM,
        wording="Send me the newsletter.",
        client="198.51.100.7",
    )
    send_campaign([contact], opened=[contact])
    return contact


def test_export_holds_fields_topics_subscriptions_consent_deliveries_and_events(
    contact,
) -> None:
    data = contact_export_data(contact=contact)

    assert json.loads(json.dumps(data)) == data
    assert data["contact"]["email"] == "ana.popescu@senat.example.ro"
    assert data["contact"]["chamber"] == "Senatul României"
    assert data["topics"] == ["Child trafficking"]
    assert [s["list_slug"] for s in data["subscriptions"]] == ["network"]
    assert data["consent_records"][0]["wording"] == "Send me the newsletter."
    assert data["consent_records"][0]["client_hash"]
    assert len(data["deliveries"]) == 1
    assert {e["kind"] for e in data["deliveries"][0]["events"]} == {"opened"}
    assert data["suppressed"] is False
    assert "preferences_token" not in data["contact"]


def test_admin_export_downloads_json_for_the_secretariat(
    secretariat_client, contact
) -> None:
    url = reverse(
        Contact.snippet_viewset.get_url_name("gdpr_export"), args=[contact.pk]
    )

    response = secretariat_client.get(url)

    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert json.loads(response.content)["contact"]["last_name"] == "Popescu"


def test_admin_erase_asks_for_confirmation_and_acts_only_on_post(
    secretariat_client, contact
) -> None:
    url = reverse(Contact.snippet_viewset.get_url_name("erase"), args=[contact.pk])

    page = secretariat_client.get(url)
    contact.refresh_from_db()
    assert page.status_code == 200
    assert contact.status == Contact.Status.ACTIVE
    assert b"Yes, erase" in page.content

    secretariat_client.post(url)
    contact.refresh_from_db()
    assert contact.status == Contact.Status.ERASED


def test_erase_suppresses_the_address_and_unsubscribes_everything(contact) -> None:
    erased = contact_erase(contact=contact)

    assert is_suppressed("ana.popescu@senat.example.ro")
    assert erased.email == f"erased-{contact.pk}@erased.invalid"
    assert not erased.topics.exists()
    assert not erased.subscriptions.filter(
        status=Subscription.Status.SUBSCRIBED
    ).exists()
    assert (
        not ConsentRecord.objects.filter(contact=contact)
        .exclude(client_hash="")
        .exists()
    )
    assert ConsentRecord.objects.filter(
        contact=contact, action=ConsentRecord.Action.UNSUBSCRIBED_ALL
    ).exists()


def test_erase_twice_changes_nothing_more(contact) -> None:
    first = contact_erase(contact=contact)
    records = ConsentRecord.objects.count()

    second = contact_erase(contact=contact)

    assert second.preferences_token == first.preferences_token
    assert ConsentRecord.objects.count() == records
    assert Suppression.objects.active().count() == 1


def test_export_contact_command_prints_json(contact) -> None:
    out = StringIO()

    call_command("export_contact", "ANA.POPESCU@senat.example.ro", stdout=out)

    assert json.loads(out.getvalue())["contact"]["first_name"] == "Ana"


def test_erase_contact_command_refuses_without_yes(contact) -> None:
    with pytest.raises(CommandError):
        call_command("erase_contact", contact.email)

    contact.refresh_from_db()
    assert contact.status == Contact.Status.ACTIVE


def test_erase_contact_command_erases_with_yes(contact) -> None:
    call_command("erase_contact", contact.email, "--yes", stdout=StringIO())

    contact.refresh_from_db()
    assert contact.status == Contact.Status.ERASED
    assert contact.last_name == ""


def test_commands_report_an_unknown_address(db) -> None:
    with pytest.raises(CommandError):
        call_command("export_contact", "nobody@example.org")

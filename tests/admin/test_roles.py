"""Roles: the Secretariat keeps the directory; Translators see no contact data."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from wagtail.log_actions import log

from newsletter.models import (
    ConsentRecord,
    Contact,
    MailingList,
    Segment,
    Suppression,
    Topic,
)
from tests.factories import ContactFactory, MailingListFactory, TopicFactory

DIRECTORY_MODELS = [Contact, MailingList, Topic, Segment, ConsentRecord, Suppression]


def directory_urls(objects: dict[type, object]) -> list[str]:
    """Return every URL of every directory viewset, chooser included."""
    urls = []
    for model in DIRECTORY_MODELS:
        viewset = model.snippet_viewset
        for viewset_ in (viewset, viewset.chooser_viewset):
            for pattern in viewset_.get_urlpatterns():
                kwargs = {
                    name: getattr(objects[model], "pk", 1)
                    for name in pattern.pattern.converters
                }
                urls.append(reverse(viewset_.get_url_name(pattern.name), kwargs=kwargs))
    return urls


@pytest.fixture
def directory_objects(db) -> dict[type, object]:
    mailing_list = MailingListFactory()
    contact = ContactFactory(
        email="secret.mp@bundestag.example.de",
        last_name="Geheimnisvoll",
        subscribed_to=[mailing_list],
    )
    log(instance=contact, action="wagtail.edit")
    record = ConsentRecord.objects.create(
        contact=contact, action="subscribed", source="admin"
    )
    return {
        Contact: contact,
        MailingList: mailing_list,
        Topic: TopicFactory(),
        Segment: Segment.objects.create(name="MPs", rules={}),
        ConsentRecord: record,
        Suppression: Suppression.objects.create(address_hash="0" * 64, reason="manual"),
    }


def test_roles_exist_with_the_documented_permissions(db) -> None:
    secretariat = set(
        Group.objects.get(name="Secretariat").permissions.values_list(
            "codename", flat=True
        )
    )
    translators = set(
        Group.objects.get(name="Translators").permissions.values_list(
            "content_type__app_label", "codename"
        )
    )

    assert {
        "access_admin",
        "change_contact",
        "delete_contact",
        "add_mailinglist",
        "change_segment",
        "change_topic",
        "view_consentrecord",
        "view_suppression",
        "change_campaign",
    } <= secretariat
    assert "change_consentrecord" not in secretariat
    assert "change_suppression" not in secretariat
    assert ("wagtailadmin", "access_admin") in translators
    assert not [perm for perm in translators if perm[0] == "newsletter"]


def test_translator_is_refused_every_directory_url(
    translator_client, directory_objects
) -> None:
    urls = directory_urls(directory_objects)
    contact = directory_objects[Contact]
    urls += [
        reverse("wagtail_bulk_action", args=["newsletter", "contact", action])
        + f"?id={contact.pk}"
        for action in ("add_to_list", "set_language", "export", "delete")
    ]
    assert len(urls) > 40

    for url in urls:
        response = translator_client.get(url)
        assert response.status_code in (302, 403), url
        if response.status_code == 302:
            assert response.url == reverse("wagtailadmin_home"), url
        assert b"secret.mp" not in response.content, url
        assert b"Geheimnisvoll" not in response.content, url


def test_translator_cannot_post_changes_to_contacts(
    translator_client, directory_objects
) -> None:
    contact = directory_objects[Contact]
    viewset = Contact.snippet_viewset

    translator_client.post(reverse(viewset.get_url_name("erase"), args=[contact.pk]))
    translator_client.post(
        reverse(viewset.get_url_name("edit"), args=[contact.pk]),
        {"email": "changed@example.org", "kind": "mp", "preferred_language": "en"},
    )

    contact.refresh_from_db()
    assert contact.email == "secret.mp@bundestag.example.de"
    assert contact.status == Contact.Status.ACTIVE


def test_translator_sees_no_contacts_menu_and_no_contact_history(
    translator_client, secretariat_client, directory_objects
) -> None:
    contacts_url = reverse(Contact.snippet_viewset.get_url_name("list")).encode()

    home = translator_client.get(reverse("wagtailadmin_home"))
    history = translator_client.get(reverse("wagtailadmin_reports:site_history"))

    assert home.status_code == 200
    assert contacts_url not in home.content
    assert b"Geheimnisvoll" not in history.content
    assert contacts_url in secretariat_client.get(reverse("wagtailadmin_home")).content


def test_secretariat_lists_and_edits_contacts(
    secretariat_client, directory_objects
) -> None:
    contact = directory_objects[Contact]
    viewset = Contact.snippet_viewset
    listing = secretariat_client.get(reverse(viewset.get_url_name("list")))
    assert b"secret.mp@bundestag.example.de" in listing.content

    response = secretariat_client.post(
        reverse(viewset.get_url_name("edit"), args=[contact.pk]),
        {
            "email": contact.email,
            "first_name": "Greta",
            "last_name": "Geheimnisvoll",
            "kind": Contact.Kind.MP,
            "country": "DE",
            "preferred_language": "de",
            "fallback_languages": "en",
        },
    )

    assert response.status_code == 302
    contact.refresh_from_db()
    assert (contact.first_name, contact.preferred_language) == ("Greta", "de")

"""The contact directory admin: listing, search, filters, editing, bulk actions."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation
from wagtail.models import ModelLogEntry

from newsletter.admin.forms import localised_country_choices
from newsletter.models import ConsentRecord, Contact, Delivery, Subscription
from tests.factories import ContactFactory, MailingListFactory, TopicFactory


def url(name: str, *args: object) -> str:
    return reverse(Contact.snippet_viewset.get_url_name(name), args=args)


def listed(client, **params: object) -> set[str]:
    response = client.get(url("list"), params)
    assert response.status_code == 200
    return {contact.email for contact in response.context["object_list"]}


@pytest.fixture
def directory(db) -> dict[str, Contact]:
    network = MailingListFactory(slug="network")
    labour = TopicFactory(name="Labour exploitation", slug="labour")
    anna = ContactFactory(
        email="anna@bundestag.example.de",
        first_name="Anna",
        last_name="Schmidt",
        kind=Contact.Kind.MP,
        country="DE",
        parliament="Bundestag",
        preferred_language="de",
        is_focal_point=True,
        subscribed_to=[network],
    )
    anna.topics.add(labour)
    piotr = ContactFactory(
        email="piotr@sejm.example.pl",
        first_name="Piotr",
        last_name="Nowak",
        kind=Contact.Kind.MP,
        country="PL",
        parliament="Sejm",
        preferred_language="pl",
    )
    ngo = ContactFactory(
        email="info@ngo.example.org",
        first_name="",
        last_name="",
        kind=Contact.Kind.NGO,
        country="DE",
        organisation="La Strada",
        preferred_language="en",
        status=Contact.Status.UNSUBSCRIBED,
    )
    return {"anna": anna, "piotr": piotr, "ngo": ngo}


def test_listing_shows_name_email_kind_country_parliament_language_status(
    secretariat_client, directory
) -> None:
    content = secretariat_client.get(url("list")).content.decode()

    for text in ("Anna Schmidt", "anna@bundestag.example.de", "Bundestag", "Germany"):
        assert text in content
    assert "Member of a national parliament" in content
    assert "Unsubscribed from everything" in content


def test_search_matches_every_word_across_name_email_organisation_parliament(
    secretariat_client, directory
) -> None:
    assert listed(secretariat_client, q="anna schmidt") == {"anna@bundestag.example.de"}
    assert listed(secretariat_client, q="strada") == {"info@ngo.example.org"}
    assert listed(secretariat_client, q="sejm") == {"piotr@sejm.example.pl"}
    assert listed(secretariat_client, q="' OR 1=1 --") == set()


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"kind": "ngo"}, {"info@ngo.example.org"}),
        ({"country": "PL"}, {"piotr@sejm.example.pl"}),
        ({"parliament": "Bundestag"}, {"anna@bundestag.example.de"}),
        ({"language": "pl"}, {"piotr@sejm.example.pl"}),
        ({"is_focal_point": "true"}, {"anna@bundestag.example.de"}),
        ({"status": "unsubscribed"}, {"info@ngo.example.org"}),
        ({"kind": "mp", "country": "DE"}, {"anna@bundestag.example.de"}),
    ],
)
def test_filters_narrow_the_listing(
    secretariat_client, directory, params, expected
) -> None:
    assert listed(secretariat_client, **params) == expected


def test_topic_and_list_filters_narrow_the_listing(
    secretariat_client, directory
) -> None:
    topic = directory["anna"].topics.get()
    mailing_list = directory["anna"].subscriptions.get().mailing_list

    assert listed(secretariat_client, topic=topic.pk) == {"anna@bundestag.example.de"}
    assert listed(secretariat_client, mailing_list=mailing_list.pk) == {
        "anna@bundestag.example.de"
    }


def edit_data(contact: Contact, **changes: object) -> dict[str, object]:
    data = {
        "email": contact.email,
        "first_name": contact.first_name,
        "last_name": contact.last_name,
        "kind": contact.kind,
        "country": contact.country,
        "parliament": contact.parliament,
        "preferred_language": contact.preferred_language,
        "fallback_languages": ", ".join(contact.fallback_languages),
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def test_edit_is_logged_and_shown_in_history(secretariat_client, directory) -> None:
    piotr = directory["piotr"]

    response = secretariat_client.post(
        url("edit", piotr.pk), edit_data(piotr, party="Civic Platform")
    )

    assert response.status_code == 302
    entry = ModelLogEntry.objects.get(object_id=str(piotr.pk), action="wagtail.edit")
    assert entry.user.username == "secretary"
    history = secretariat_client.get(url("history", piotr.pk))
    assert "secretary" in history.content.decode()


def test_edit_changes_lists_and_tracking_through_consent_records(
    secretariat_client, directory
) -> None:
    piotr = directory["piotr"]
    network = directory["anna"].subscriptions.get().mailing_list

    secretariat_client.post(
        url("edit", piotr.pk),
        edit_data(piotr, mailing_lists=[network.pk], consents_to_tracking=""),
    )
    secretariat_client.post(url("edit", piotr.pk), edit_data(piotr))

    actions = list(
        ConsentRecord.objects.filter(contact=piotr).values_list("action", "source")
    )
    assert actions == [
        (ConsentRecord.Action.SUBSCRIBED, ConsentRecord.Source.ADMIN),
        (ConsentRecord.Action.TRACKING_WITHDRAWN, ConsentRecord.Source.ADMIN),
        (ConsentRecord.Action.UNSUBSCRIBED, ConsentRecord.Source.ADMIN),
    ]
    assert piotr.subscriptions.get().status == Subscription.Status.UNSUBSCRIBED


def test_fallback_languages_keep_their_order_and_refuse_unknown_codes(
    secretariat_client, directory
) -> None:
    piotr = directory["piotr"]

    refused = secretariat_client.post(
        url("edit", piotr.pk), edit_data(piotr, fallback_languages="de, xx")
    )
    secretariat_client.post(
        url("edit", piotr.pk), edit_data(piotr, fallback_languages="de, en ,fr")
    )

    assert refused.status_code == 200
    assert "xx" in str(refused.context["form"].errors["fallback_languages"])
    piotr.refresh_from_db()
    assert piotr.fallback_languages == ["de", "en", "fr"]


def test_an_address_differing_only_in_case_is_refused(
    secretariat_client, directory
) -> None:
    piotr = directory["piotr"]

    response = secretariat_client.post(
        url("edit", piotr.pk), edit_data(piotr, email="ANNA@bundestag.example.de")
    )

    assert response.status_code == 200
    assert "email" in response.context["form"].errors


def test_countries_are_named_in_the_admin_language() -> None:
    with translation.override("de"):
        names = dict(localised_country_choices())

    assert names["DE"] == "Deutschland"
    assert names["RO"] == "Rumänien"


def bulk_url(action: str, *contacts: Contact) -> str:
    ids = "&".join(f"id={contact.pk}" for contact in contacts)
    return (
        reverse("wagtail_bulk_action", args=["newsletter", "contact", action])
        + "?"
        + ids
    )


def test_bulk_add_to_list_subscribes_through_consent_records(
    secretariat_client, directory
) -> None:
    target = MailingListFactory(slug="briefings")
    contacts = [directory["anna"], directory["piotr"]]

    confirm = secretariat_client.get(bulk_url("add_to_list", *contacts))
    response = secretariat_client.post(
        bulk_url("add_to_list", *contacts), {"mailing_list": target.pk}
    )

    assert b"Piotr Nowak" in confirm.content
    assert response.status_code == 302
    assert set(
        Subscription.objects.filter(
            mailing_list=target, status=Subscription.Status.SUBSCRIBED
        ).values_list("contact__email", flat=True)
    ) == {c.email for c in contacts}
    assert (
        ConsentRecord.objects.filter(
            mailing_list=target, source=ConsentRecord.Source.ADMIN
        ).count()
        == 2
    )


def test_bulk_set_language_changes_preferred_language_and_logs_it(
    secretariat_client, directory
) -> None:
    contacts = [directory["anna"], directory["piotr"]]

    secretariat_client.post(bulk_url("set_language", *contacts), {"language": "ro"})

    assert set(
        Contact.objects.filter(pk__in=[c.pk for c in contacts]).values_list(
            "preferred_language", flat=True
        )
    ) == {"ro"}
    assert ModelLogEntry.objects.filter(action="wagtail.edit").count() == 2


def test_bulk_export_downloads_the_selected_contacts(
    secretariat_client, directory
) -> None:
    pytest.importorskip("newsletter.audience.exports")

    response = secretariat_client.post(
        bulk_url("export", directory["anna"], directory["piotr"]),
        {"file_format": "csv"},
    )

    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    body = response.content.decode("utf-8-sig")
    assert "anna@bundestag.example.de" in body
    assert "piotr@sejm.example.pl" in body
    assert "info@ngo.example.org" not in body


def test_bulk_delete_keeps_contacts_that_deliveries_refer_to(
    secretariat_client, directory, send_campaign
) -> None:
    send_campaign([directory["anna"]])
    contacts = [directory["anna"], directory["ngo"]]

    response = secretariat_client.post(bulk_url("delete", *contacts))

    assert response.status_code == 302
    assert Contact.objects.filter(pk=directory["anna"].pk).exists()
    assert Delivery.objects.filter(contact=directory["anna"]).exists()
    assert not Contact.objects.filter(pk=directory["ngo"].pk).exists()

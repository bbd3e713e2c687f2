"""The preference centre behind the signed link in every mail."""

from __future__ import annotations

import pytest

from newsletter.audience.suppression import is_suppressed
from newsletter.models import ConsentRecord, Contact, Subscription
from tests.factories import ContactFactory, MailingListFactory, TopicFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(public_list):
    private = MailingListFactory(name="Focal points", slug="focal-points")
    hidden = MailingListFactory(name="Other people's list", slug="others")
    topic = TopicFactory(name="Child trafficking", slug="child-trafficking")
    contact = ContactFactory(
        email="ana.popescu@example.org",
        preferred_language="bg",
        tracking_consent=False,
        subscribed_to=[private],
    )
    return contact, public_list, private, hidden, topic


def url(contact: Contact, language: str = "bg") -> str:
    return f"/{language}/preferences/{contact.preferences_token}/"


def form_data(**overrides):
    data = {
        "preferred_language": "bg",
        "fallback_1": "",
        "fallback_2": "",
        "fallback_3": "",
        "action": "save",
    }
    data.update(overrides)
    return data


def status(contact, mailing_list) -> str | None:
    row = Subscription.objects.filter(
        contact=contact, mailing_list=mailing_list
    ).first()
    return row.status if row else None


@pytest.mark.parametrize("method", ["get", "head"])
def test_opening_the_preference_centre_changes_nothing(client, setup, method) -> None:
    contact, *_ = setup

    response = getattr(client, method)(url(contact))

    assert response.status_code == 200
    assert not ConsentRecord.objects.exists()
    if method == "get":
        page = response.content.decode()
        assert '<html lang="bg"' in page
        assert (
            "ana.popescu@example.org" not in page
        )  # a forwarded copy shows no address
        assert "a•••@example.org" in page


def test_the_reader_manages_public_lists_and_their_own_but_no_others(
    client, setup
) -> None:
    contact, public_list, private, hidden, _topic = setup

    response = client.get(url(contact))

    lists = {m.slug for m in response.context["form"].fields["lists"].queryset}
    assert lists == {public_list.slug, private.slug}


def test_saving_sets_languages_topics_lists_and_tracking_through_consent_records(
    client, setup
) -> None:
    contact, public_list, private, _hidden, topic = setup

    response = client.post(
        url(contact),
        form_data(
            preferred_language="ro",
            fallback_1="fr",
            fallback_2="ro",
            fallback_3="en",
            topics=[topic.pk],
            lists=[public_list.pk],
            tracking="on",
        ),
    )

    assert response.status_code == 302
    assert (
        response["Location"] == f"/ro/preferences/{contact.preferences_token}/?saved=1"
    )
    contact.refresh_from_db()
    assert contact.preferred_language == "ro"
    assert contact.fallback_languages == ["fr", "en"]
    assert list(contact.topics.all()) == [topic]
    assert contact.tracking_consent is True
    assert status(contact, public_list) == Subscription.Status.SUBSCRIBED
    assert status(contact, private) == Subscription.Status.UNSUBSCRIBED
    records = {
        (r.action, r.mailing_list_id): r
        for r in ConsentRecord.objects.filter(contact=contact)
    }
    assert set(records) == {
        ("subscribed", public_list.pk),
        ("unsubscribed", private.pk),
        ("tracking_granted", None),
    }
    for record in records.values():
        assert record.source == ConsentRecord.Source.PREFERENCES
        assert record.language == "bg"  # the language of the page that was shown
    assert records[("tracking_granted", None)].wording.startswith("Съгласен/на съм")


def test_the_saved_page_is_in_the_new_language(client, setup) -> None:
    contact, *_ = setup
    contact.preferred_language = "ro"
    contact.save()

    response = client.get(url(contact, "ro") + "?saved=1")

    page = response.content.decode()
    assert '<html lang="ro"' in page
    assert "Preferințele dumneavoastră au fost salvate." in page


def test_saving_without_changes_records_nothing(client, setup) -> None:
    contact, _public, private, _hidden, _topic = setup

    client.post(url(contact), form_data(lists=[private.pk]))

    assert not ConsentRecord.objects.exists()


def test_unsubscribing_from_everything_suppresses_the_address(client, setup) -> None:
    contact, *_ = setup

    response = client.post(url(contact), {"action": "unsubscribe_all"})

    assert response.status_code == 200
    contact.refresh_from_db()
    assert contact.status == Contact.Status.UNSUBSCRIBED
    assert is_suppressed(contact.email)
    record = ConsentRecord.objects.get(contact=contact)
    assert record.action == ConsentRecord.Action.UNSUBSCRIBED_ALL
    assert record.source == ConsentRecord.Source.PREFERENCES


def test_after_unsubscribing_from_everything_lists_need_a_new_opt_in(
    client, setup
) -> None:
    contact, public_list, *_ = setup
    client.post(url(contact), {"action": "unsubscribe_all"})

    client.post(url(contact), form_data(lists=[public_list.pk]))

    assert status(contact, public_list) is None
    assert Contact.objects.get(pk=contact.pk).status == Contact.Status.UNSUBSCRIBED


def test_an_unknown_token_gets_a_404(client) -> None:
    assert client.get("/bg/preferences/AAAAAAAAAAAAAAAAAAAAAA/").status_code == 404

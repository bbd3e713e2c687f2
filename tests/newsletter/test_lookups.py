"""``any_of``: a list of ids as one parameter, the same rows as ``in``."""

import pytest

from newsletter.models import Contact, Subscription
from tests.factories import ContactFactory, MailingListFactory

pytestmark = pytest.mark.django_db


def test_any_of_finds_what_in_finds_with_one_parameter() -> None:
    mailing_list = MailingListFactory()
    contacts = ContactFactory.create_batch(5, subscribed_to=[mailing_list])
    wanted = [contacts[0].pk, contacts[3].pk, 10**12]

    by_pk = Contact.objects.filter(pk__any_of=wanted).values_list("pk", flat=True)
    by_key = Subscription.objects.filter(contact_id__any_of=wanted).values_list(
        "contact_id", flat=True
    )

    assert set(by_pk) == set(by_key) == {contacts[0].pk, contacts[3].pk}
    assert set(by_pk) == set(
        Contact.objects.filter(pk__in=wanted).values_list("pk", flat=True)
    )
    # The whole list is one query parameter, however long it is.
    _, params = by_pk.query.sql_with_params()
    assert len(params) == 1


def test_any_of_an_empty_list_finds_nothing() -> None:
    ContactFactory()

    assert not Contact.objects.filter(pk__any_of=[]).exists()


def test_any_of_on_a_text_column_matches_whole_strings() -> None:
    contacts = ContactFactory.create_batch(3)
    wanted = [
        contacts[1].preferences_token,
        "' OR 1=1 --",
        contacts[2].preferences_token[:-1],
    ]

    found = Contact.objects.filter(preferences_token__any_of=wanted)

    assert list(found.values_list("pk", flat=True)) == [contacts[1].pk]
    _, params = found.query.sql_with_params()
    assert len(params) == 1

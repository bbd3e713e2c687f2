"""Directory services used by the admin's bulk actions."""

from __future__ import annotations

import pytest

from newsletter.audience.contacts import contacts_set_language
from newsletter.models import Contact
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


def test_set_language_changes_only_contacts_that_need_it_and_never_erased_ones() -> (
    None
):
    anna = ContactFactory(preferred_language="de")
    piotr = ContactFactory(preferred_language="ro")
    gone = ContactFactory(preferred_language="de", status=Contact.Status.ERASED)

    changed = contacts_set_language(
        contact_ids=[anna.pk, piotr.pk, gone.pk], language="ro"
    )

    assert [c.pk for c in changed] == [anna.pk]
    languages = dict(Contact.objects.values_list("pk", "preferred_language"))
    assert languages == {anna.pk: "ro", piotr.pk: "ro", gone.pk: "de"}


def test_set_language_refuses_a_language_relay_does_not_serve() -> None:
    anna = ContactFactory(preferred_language="de")

    with pytest.raises(ValueError, match="not a language"):
        contacts_set_language(contact_ids=[anna.pk], language="xx")

    anna.refresh_from_db()
    assert anna.preferred_language == "de"

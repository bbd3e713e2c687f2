import pytest

from newsletter.models import Contact
from newsletter.sending.campaigns import campaign_create
from newsletter.sending.prepare import campaign_prepare
from tests.factories import ContactFactory, MailingListFactory

pytestmark = pytest.mark.django_db


def test_deleting_a_contact_with_history_explains_instead_of_crashing(
    admin_client, issue
) -> None:
    mailing_list = MailingListFactory()
    contact = ContactFactory(subscribed_to=[mailing_list])
    campaign_prepare(campaign_id=campaign_create(page=issue, lists=[mailing_list]).pk)

    page = admin_client.get(f"/admin/directory/contacts/delete/{contact.pk}/")
    response = admin_client.post(
        f"/admin/directory/contacts/delete/{contact.pk}/", follow=True
    )

    assert page.status_code == 200
    assert response.status_code == 200
    assert "Erase the contact instead" in response.text
    assert Contact.objects.filter(pk=contact.pk).exists()


def test_a_contact_without_history_can_be_deleted(admin_client) -> None:
    contact = ContactFactory()

    response = admin_client.post(f"/admin/directory/contacts/delete/{contact.pk}/")

    assert response.status_code == 302
    assert not Contact.objects.filter(pk=contact.pk).exists()

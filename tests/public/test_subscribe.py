"""The public subscribe form: double opt-in, flood limits, and answers that reveal nothing."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail

from newsletter.models import ConsentRecord, Contact, Subscription
from tests.factories import ContactFactory, MailingListFactory

pytestmark = pytest.mark.django_db

URL = "/bg/subscribe/"


def sign_up(client, stamp, email, *, client_address="192.0.2.1", **extra):
    data = {
        "email": email,
        "first_name": "",
        "language": "bg",
        "mailing_list": "relay-news",
        "stamp": stamp,
        **extra,
    }
    return client.post(URL, data, REMOTE_ADDR=client_address)


def confirmation_mails() -> list:
    return [m for m in mail.outbox if "confirm-subscription" in m.tags]


def test_the_form_offers_public_lists_a_separate_unticked_tracking_box_and_a_honeypot(
    client, public_list
) -> None:
    MailingListFactory(name="Secretariat only", is_public=False)

    response = client.get(URL)

    page = response.content.decode()
    assert response.status_code == 200
    assert 'value="relay-news"' in page and "Secretariat only" not in page
    assert re.search(r'<input type="checkbox" name="tracking"[^>]*>', page)
    assert "checked" not in re.search(
        r'<input type="checkbox" name="tracking"[^>]*>', page
    ).group(0)
    assert 'name="website"' in page
    assert 'name="stamp"' in page
    assert '<option value="bg" selected>' in page


@pytest.mark.parametrize(
    ("language", "translated", "english"),
    [
        ("bg", "Абониране за бюлетина", "Subscribe to the newsletter"),
        ("el", "Εγγραφή στο ενημερωτικό δελτίο", "Subscribe to the newsletter"),
        ("ro", "Abonare la buletinul informativ", "Subscribe to the newsletter"),
    ],
)
def test_the_form_is_in_the_pages_language(
    client, public_list, language, translated, english
) -> None:
    response = client.get(f"/{language}/subscribe/")

    page = response.content.decode()
    assert f'<html lang="{language}"' in page
    assert translated in page
    assert english not in page
    assert "Email address" not in page


def test_a_sign_up_records_the_request_and_queues_one_confirmation_mail(
    client, public_list, stamp, eager_tasks, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = sign_up(client, stamp, "Nova@Example.org", first_name="Nova")

    assert response.status_code == 200
    assert mail.outbox == []  # nothing is sent inside the request
    assert len(queued) == 1
    contact = Contact.objects.get(email__iexact="nova@example.org")
    assert contact.first_name == "Nova"
    assert contact.preferred_language == "bg"
    subscription = Subscription.objects.get(contact=contact)
    assert subscription.status == Subscription.Status.PENDING
    assert subscription.confirm_token
    record = ConsentRecord.objects.get(contact=contact)
    assert record.action == ConsentRecord.Action.SUBSCRIBE_REQUESTED
    assert record.source == ConsentRecord.Source.FORM
    assert record.mailing_list == public_list
    assert record.language == "bg"
    assert record.wording.startswith("Искам да получавам")
    assert record.client_hash and "192.0.2.1" not in record.client_hash

    queued[0]()  # the commit happens: the task runs

    (message,) = confirmation_mails()
    assert message.extra_headers["Content-Language"] == "bg"
    assert "List-Unsubscribe" not in message.extra_headers
    link = f"http://testserver/bg/subscribe/confirm/{subscription.confirm_token}/"
    assert link in message.body
    assert f'href="{link}"' in message.alternatives[0][0]


def test_a_hundred_sign_ups_from_many_clients_send_at_most_one_mail_and_answer_alike(
    client, public_list, stamp, eager_tasks, django_capture_on_commit_callbacks
) -> None:
    known = ContactFactory(email="known@example.org", subscribed_to=[public_list])
    victim = "victim@example.org"

    with django_capture_on_commit_callbacks(execute=True):
        answers = [
            sign_up(client, stamp, victim, client_address=f"198.51.100.{n}")
            for n in range(100)
        ]
        for_known = sign_up(client, stamp, known.email, client_address="203.0.113.9")

    assert len(confirmation_mails()) == 1
    assert confirmation_mails()[0].to == [victim]
    first = answers[0]
    for answer in [*answers[1:], for_known]:
        assert answer.status_code == first.status_code == 200
        assert answer.content == first.content
        assert dict(answer.headers) == dict(first.headers)
        assert victim.encode() not in answer.content


def test_the_next_window_allows_one_more_confirmation_mail(
    client, public_list, stamp, eager_tasks, django_capture_on_commit_callbacks, clock
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        sign_up(client, stamp, "late@example.org")
        clock.shift(timedelta(hours=23))
        sign_up(client, stamp, "late@example.org", client_address="192.0.2.2")
    assert len(confirmation_mails()) == 1

    clock.shift(timedelta(hours=2))
    from newsletter.forms import form_stamp

    fresh = form_stamp()
    clock.shift(timedelta(seconds=5))
    with django_capture_on_commit_callbacks(execute=True):
        sign_up(client, fresh, "late@example.org", client_address="192.0.2.3")

    assert len(confirmation_mails()) == 2


def test_an_already_subscribed_address_gets_no_mail(
    client, public_list, stamp, eager_tasks, django_capture_on_commit_callbacks
) -> None:
    known = ContactFactory(subscribed_to=[public_list])

    with django_capture_on_commit_callbacks(execute=True):
        response = sign_up(client, stamp, known.email)

    assert response.status_code == 200
    assert confirmation_mails() == []


def test_a_client_over_its_hourly_limit_gets_the_same_answer_and_sends_nothing(
    client, public_list, stamp, eager_tasks, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        within = [sign_up(client, stamp, f"p{n}@example.org") for n in range(10)]
        over = sign_up(client, stamp, "eleventh@example.org")

    assert len(confirmation_mails()) == 10
    assert over.content == within[0].content
    assert not Contact.objects.filter(email="eleventh@example.org").exists()


def test_a_filled_honeypot_gets_the_same_answer_and_stores_nothing(
    client, public_list, stamp
) -> None:
    honest = sign_up(client, stamp, "person@example.org", client_address="192.0.2.7")
    bot = sign_up(client, stamp, "bot@example.org", website="http://spam.example")

    assert bot.content == honest.content
    assert not Contact.objects.filter(email="bot@example.org").exists()


@pytest.mark.parametrize("age", [timedelta(seconds=1), timedelta(hours=2)])
def test_a_form_sent_too_fast_or_too_late_is_shown_again(
    client, public_list, clock, age
) -> None:
    from newsletter.forms import form_stamp

    stale = form_stamp()
    clock.shift(age)

    response = sign_up(client, stale, "quick@example.org")

    assert response.status_code == 200
    assert response.context["form"].errors
    assert not Contact.objects.exists()
    assert response.context["form"].data["stamp"] != stale  # a fresh stamp to retry


def test_a_known_contacts_details_are_not_changed_by_the_form(
    client, public_list, stamp, eager_tasks, django_capture_on_commit_callbacks
) -> None:
    known = ContactFactory(
        first_name="Ana", preferred_language="de", tracking_consent=False
    )

    with django_capture_on_commit_callbacks(execute=True):
        sign_up(client, stamp, known.email, first_name="Mallory", tracking="on")

    known.refresh_from_db()
    assert (known.first_name, known.preferred_language, known.tracking_consent) == (
        "Ana",
        "de",
        False,
    )
    assert len(confirmation_mails()) == 1


def test_a_private_list_cannot_be_chosen(client, public_list, stamp) -> None:
    MailingListFactory(slug="internal", is_public=False)

    response = sign_up(client, stamp, "x@example.org", mailing_list="internal")

    assert response.context["form"].errors["mailing_list"]
    assert not Contact.objects.exists()

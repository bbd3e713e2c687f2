"""The forward form: only an MP's token opens it, limits hold, and colleagues' copies are clean."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from newsletter.audience.suppression import suppression_add
from newsletter.models import (
    Contact,
    Forward,
    ForwardOptOut,
    ForwardRecipient,
    Referral,
)
from newsletter.sending.forwards import forward_send
from newsletter.tasks import deliveries_sweep_task
from newsletter.tracking.referrals import address_key
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


def form_url(delivery) -> str:
    return f"/en/forward/{delivery.token}/"


def form_key(client, url: str) -> str:
    page = client.get(url).content.decode()
    return re.search(r'name="key" value="([^"]+)"', page).group(1)


@pytest.fixture
def post(client, django_capture_on_commit_callbacks, eager_tasks):
    """Return a function that submits the forward form like a browser: GET, then POST."""

    def submit(delivery, addresses, *, note="", key=None, url=None):
        url = url or form_url(delivery)
        key = key or form_key(client, url)
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(url, {"addresses": addresses, "note": note, "key": key})

    return submit


def colleague_mails() -> list:
    return [m for m in mail.outbox if "forward" in (m.tags or [])]


def test_the_pack_mail_offers_forwarding_and_a_shared_link_to_mps_only(
    send_pack,
) -> None:
    mp = ContactFactory(kind=Contact.Kind.MP)
    ngo = ContactFactory(kind=Contact.Kind.NGO)

    send_pack([mp, ngo])

    by_reader = {m.to[0].rsplit("<", 1)[-1].rstrip(">"): m for m in mail.outbox}
    mp_mail, ngo_mail = by_reader[mp.email], by_reader[ngo.email]
    mp_html = mp_mail.alternatives[0][0]
    token = mp.deliveries.get().token
    assert "Forward to colleagues" in mp_html and "Copy your shared link" in mp_html
    assert f"/en/forward/{token}/" in mp_html and f"/en/read/{token}/" in mp_html
    assert f"/en/forward/{token}/" in mp_mail.body  # the text part too, as text
    assert "<a " not in mp_mail.body and "<img" not in mp_mail.body
    assert "Forward to colleagues" not in ngo_mail.alternatives[0][0]
    assert "/forward/" not in ngo_mail.body and "relay:" not in ngo_mail.body


def test_forwarding_sends_each_colleague_a_copy_without_any_private_link_of_the_mp(
    client, post, mp_delivery
) -> None:
    mp = mp_delivery.contact
    mail.outbox.clear()

    response = post(
        mp_delivery,
        "anna@parliament.example\nbo@parliament.example",
        note="Please read <b>this</b>: https://evil.example/x before Tuesday.",
    )

    assert response.status_code == 200
    assert "on its way" in response.content.decode()
    copies = colleague_mails()
    assert sorted(m.to[0] for m in copies) == [
        "anna@parliament.example",
        "bo@parliament.example",
    ]
    referral_tokens = list(Referral.objects.values_list("token", flat=True))
    for message in copies:
        raw = message.message().as_string()
        html = message.alternatives[0][0]
        for secret in (mp_delivery.token, mp.preferences_token, *referral_tokens):
            assert secret not in raw
        assert mp.email not in raw
        assert "/unsubscribe/" not in raw and "/preferences/" not in raw
        assert "/t/c/" not in raw and "/read/" not in raw and "/forward/" not in raw
        assert "Ana Popescu forwarded this to you." in html
        assert "&lt;b&gt;this&lt;/b&gt;" in html and "evil.example" not in raw
        recipient = ForwardRecipient.objects.get(
            token__in=re.findall(r"/t/f/([\w-]+)\.gif", html)
        )
        stop = f"http://testserver/en/forward-stop/{recipient.token}/"
        assert message.extra_headers["List-Unsubscribe"] == f"<{stop}>"
        assert message.extra_headers["List-Unsubscribe-Post"] == (
            "List-Unsubscribe=One-Click"
        )
        assert stop in html
    # Once handed over, the colleague's address is no longer kept.
    assert set(ForwardRecipient.objects.values_list("status", "email")) == {
        ("sent", "")
    }


def test_a_list_pasted_in_bulk_is_refused_and_nothing_is_sent(
    post, mp_delivery
) -> None:
    mail.outbox.clear()
    addresses = ", ".join(f"c{n}@parliament.example" for n in range(6))

    response = post(mp_delivery, addresses)

    assert response.status_code == 400
    assert "Too many addresses: at most 5 per request." in response.content.decode()
    assert not Forward.objects.exists() and not ForwardRecipient.objects.exists()
    assert mail.outbox == []


def test_the_daily_limit_refuses_a_request_beyond_it_and_sends_nothing_for_it(
    post, mp_delivery, settings
) -> None:
    settings.RELAY_FORWARD_DAILY_LIMIT = 6
    mail.outbox.clear()
    assert (
        post(mp_delivery, " ".join(f"a{n}@p.example" for n in range(5))).status_code
        == 200
    )

    response = post(mp_delivery, "b1@p.example b2@p.example")

    assert response.status_code == 400
    assert "daily limit of forwards (6)" in response.content.decode()
    assert len(colleague_mails()) == 5
    assert ForwardRecipient.objects.count() == 5
    assert post(mp_delivery, "b1@p.example").status_code == 200
    assert len(colleague_mails()) == 6


@pytest.mark.parametrize("which", ["bad", "absent", "not an MP", "not sent"])
def test_a_request_without_a_valid_mp_token_gets_a_404_and_sends_nothing(
    client, send_pack, mp_delivery, which
) -> None:
    mail.outbox.clear()
    if which == "bad":
        url = form_url(mp_delivery)[:-3] + "xy/"
    elif which == "absent":
        url = "/en/forward/"
    elif which == "not an MP":
        ngo = ContactFactory(kind=Contact.Kind.NGO)
        send_pack([ngo])
        mail.outbox.clear()
        url = form_url(ngo.deliveries.get())
    else:
        mp_delivery.status = "failed"
        mp_delivery.save()
        url = form_url(mp_delivery)

    got = client.get(url)
    posted = client.post(url, {"addresses": "x@p.example", "key": "k" * 32})

    assert (got.status_code, posted.status_code) == (404, 404)
    assert not Forward.objects.exists()
    assert mail.outbox == []


def test_the_form_changes_nothing_on_get_and_needs_csrf_on_post(mp_delivery) -> None:
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)

    assert browser.get(form_url(mp_delivery)).status_code == 200
    response = browser.post(
        form_url(mp_delivery), {"addresses": "x@p.example", "key": "k" * 32}
    )

    assert response.status_code == 403
    assert not Referral.objects.exists() and not Forward.objects.exists()


def test_a_double_submit_sends_nothing_twice(client, post, mp_delivery) -> None:
    mail.outbox.clear()
    key = form_key(client, form_url(mp_delivery))

    post(mp_delivery, "a@p.example b@p.example", key=key)
    post(mp_delivery, "a@p.example b@p.example", key=key)
    post(mp_delivery, "b@p.example", key=key)
    # Another form, same colleague: this MP never sends them the pack twice.
    post(mp_delivery, "a@p.example")

    assert sorted(m.to[0] for m in colleague_mails()) == ["a@p.example", "b@p.example"]
    assert Forward.objects.count() == 2
    # A task delivered twice finds nothing left to claim.
    assert forward_send(forward_id=Forward.objects.first().pk)["claimed"] == 0


def test_a_colleague_can_stop_forwarded_copies_with_one_click(
    client, post, mp_delivery, send_pack
) -> None:
    post(mp_delivery, "anna@parliament.example")
    recipient = ForwardRecipient.objects.get()
    url = f"/en/forward-stop/{recipient.token}/"

    assert client.get(url).status_code == 200
    assert not ForwardOptOut.objects.exists()  # a GET changes nothing
    response = client.post(
        url,
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 200
    assert ForwardOptOut.objects.filter(
        address_key=address_key("Anna@Parliament.example")
    ).exists()
    # Another MP forwards to her: she gets nothing.
    other = ContactFactory(kind=Contact.Kind.MEP)
    send_pack([other])
    mail.outbox.clear()
    assert post(other.deliveries.get(), "anna@parliament.example").status_code == 200
    assert colleague_mails() == []
    skipped = ForwardRecipient.objects.get(referral__delivery__contact=other)
    assert (skipped.status, skipped.email) == ("skipped", "")


def test_suppressed_addresses_and_readers_of_the_campaign_are_never_mailed(
    post, mp_delivery, send_pack
) -> None:
    suppression_add(email="gone@p.example", reason="complaint")
    mail.outbox.clear()

    post(mp_delivery, f"gone@p.example {mp_delivery.contact.email} ok@p.example")

    assert [m.to[0] for m in colleague_mails()] == ["ok@p.example"]


def test_a_known_colleague_gets_the_copy_in_their_language_and_tracking_per_consent(
    client, post, mp_delivery
) -> None:
    ContactFactory(
        email="ivan@parliament.bg", preferred_language="bg", tracking_consent=False
    )
    ContactFactory(
        email="eva@parliament.cz", preferred_language="cs", tracking_consent=True
    )
    mail.outbox.clear()

    post(mp_delivery, "ivan@parliament.bg eva@parliament.cz stranger@p.example")

    copies = {m.to[0]: m for m in colleague_mails()}
    assert '<html lang="bg"' in copies["ivan@parliament.bg"].alternatives[0][0]
    # No Czech translation is published: the MP's language.
    assert '<html lang="en"' in copies["eva@parliament.cz"].alternatives[0][0]
    assert "/t/f/" not in copies["ivan@parliament.bg"].alternatives[0][0]
    for address in ("eva@parliament.cz", "stranger@p.example"):
        assert "/t/f/" in copies[address].alternatives[0][0]
    # A person's open is marked once; a privacy proxy's apart.
    stranger = ForwardRecipient.objects.get(
        address_key=address_key("stranger@p.example")
    )
    client.get(f"/t/f/{stranger.token}.gif", HTTP_USER_AGENT="Mozilla/5.0")
    stranger.refresh_from_db()
    assert (stranger.opened_at, stranger.machine_opened_at is not None) == (None, True)
    client.get(f"/t/f/{stranger.token}.gif", HTTP_USER_AGENT="Thunderbird/128.0")
    stranger.refresh_from_db()
    assert stranger.opened_at is not None


def test_anonymous_mode_sends_colleagues_no_pixel(post, mp_delivery, settings) -> None:
    settings.RELAY_ANONYMOUS_TRACKING = True
    mail.outbox.clear()

    post(mp_delivery, "stranger@p.example")

    assert "/t/f/" not in colleague_mails()[0].alternatives[0][0]
    assert ForwardRecipient.objects.get().tracked is False


def test_the_form_and_its_answers_are_in_the_readers_language(
    client, mp_delivery
) -> None:
    page = client.get(f"/bg/forward/{mp_delivery.token}/").content.decode()

    assert '<html lang="bg"' in page
    assert "Препратете на колеги" in page and "Имейл адреси на вашите колеги" in page
    response = client.post(
        f"/bg/forward/{mp_delivery.token}/",
        {"addresses": " ".join(f"c{n}@p.example" for n in range(6)), "key": "k" * 32},
    )
    assert "Твърде много адреси: най-много 5 на заявка." in response.content.decode()


def test_copies_left_by_a_stopped_worker_are_resolved_by_the_sweep(
    post, mp_delivery, settings
) -> None:
    post(mp_delivery, "anna@parliament.example\nbo@parliament.example\ncy@x.example")
    mail.outbox.clear()
    anna, bo, cy = ForwardRecipient.objects.order_by("pk")
    long_ago = timezone.now() - timedelta(
        seconds=settings.RELAY_SEND_CLAIM_TIMEOUT + 60
    )
    # As a worker killed mid-forward leaves them: Anna's call had begun, Bo's
    # had not; Cy's claim is fresh (a worker still at it).
    ForwardRecipient.objects.filter(pk=anna.pk).update(
        status="sending",
        email="anna@parliament.example",
        claimed_at=long_ago,
        attempted_at=long_ago,
    )
    ForwardRecipient.objects.filter(pk=bo.pk).update(
        status="sending",
        email="bo@parliament.example",
        claimed_at=long_ago,
        attempted_at=None,
    )
    ForwardRecipient.objects.filter(pk=cy.pk).update(
        status="sending",
        email="cy@x.example",
        claimed_at=timezone.now(),
        attempted_at=None,
    )

    result = deliveries_sweep_task()

    anna.refresh_from_db()
    bo.refresh_from_db()
    cy.refresh_from_db()
    assert (result["forward_uncertain"], result["forward_requeued"]) == (1, 1)
    assert (anna.status, anna.email) == ("uncertain", "")  # never resent
    assert (bo.status, bo.email) == ("sent", "")  # queued again, and sent once
    assert cy.status == "sending"
    assert [m.to for m in colleague_mails()] == [["bo@parliament.example"]]

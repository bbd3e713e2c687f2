"""Click redirects through the campaign's link map, gated by consent at send and hit time."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from newsletter.models import Delivery, Link, TrackingEvent
from newsletter.sending.campaigns import campaign_create
from newsletter.sending.dispatch import delivery_send_batch, reader_tracking_id
from newsletter.sending.prepare import campaign_prepare
from newsletter.tracking.hits import hit_commit_sql
from newsletter.tracking.links import click_url, links_rewrite
from newsletter.tracking.tokens import pixel_url
from tests.factories import ContactFactory, MailingListFactory
from tests.standin import StandInProvider

pytestmark = pytest.mark.django_db

TARGET = "https://example.org/more"  # the call to action of the test issue


@pytest.fixture
def sent(issue, mailoutbox):
    """Send the issue to a reader who consents to tracking and one who does not."""
    mailing_list = MailingListFactory()
    tracked = ContactFactory(subscribed_to=[mailing_list], tracking_consent=True)
    plain = ContactFactory(subscribed_to=[mailing_list], tracking_consent=False)
    campaign = campaign_create(page=issue, lists=[mailing_list])
    ids = campaign_prepare(campaign_id=campaign.pk)
    delivery_send_batch(campaign_id=campaign.pk, delivery_ids=ids)
    mails = {mail.to[0].rpartition("<")[2].rstrip(">"): mail for mail in mailoutbox}
    return {
        "campaign": campaign,
        "tracked": Delivery.objects.get(campaign=campaign, contact=tracked),
        "plain": Delivery.objects.get(campaign=campaign, contact=plain),
        "mails": mails,
    }


def html_of(mail) -> str:
    return mail.alternatives[0][0]


def test_a_consenting_reader_gets_tracked_links_and_others_the_original(sent) -> None:
    link = Link.objects.get(campaign=sent["campaign"], url=TARGET)
    tracked, plain = sent["tracked"], sent["plain"]
    tracked_mail = sent["mails"][tracked.contact.email]
    plain_mail = sent["mails"][plain.contact.email]

    tracking = reader_tracking_id(tracked)
    assert f'href="{click_url(tracking, link.pk)}"' in html_of(tracked_mail)
    assert f'href="{TARGET}"' not in html_of(tracked_mail)
    assert f'href="{TARGET}"' in html_of(plain_mail)
    assert "/t/c/" not in html_of(plain_mail)
    assert pixel_url(plain.token) not in html_of(plain_mail)
    # The text part keeps the original URL for everyone.
    for mail in (tracked_mail, plain_mail):
        assert TARGET in mail.body
        assert "/t/c/" not in mail.body
        assert "{{relay:" not in mail.body + html_of(mail)
    # Unsubscribe and preference links are never rewritten.
    assert f"/unsubscribe/{tracked.token}/" in html_of(tracked_mail)


def test_anonymous_mode_sends_no_pixel_and_plain_links(
    issue, mailoutbox, settings
) -> None:
    settings.RELAY_ANONYMOUS_TRACKING = True
    mailing_list = MailingListFactory()
    ContactFactory(subscribed_to=[mailing_list], tracking_consent=True)
    campaign = campaign_create(page=issue, lists=[mailing_list])
    ids = campaign_prepare(campaign_id=campaign.pk)

    delivery_send_batch(campaign_id=campaign.pk, delivery_ids=ids)

    markup = html_of(mailoutbox[0])
    assert f'href="{TARGET}"' in markup
    assert "/t/c/" not in markup
    assert "/t/o/" not in markup


def test_the_link_map_is_stored_once_per_campaign_for_all_variants(issue) -> None:
    mailing_list = MailingListFactory()
    for language in ("en", "de", "bg"):
        ContactFactory(preferred_language=language, subscribed_to=[mailing_list])
    campaign = campaign_create(page=issue, lists=[mailing_list])
    ids = campaign_prepare(campaign_id=campaign.pk)

    delivery_send_batch(campaign_id=campaign.pk, delivery_ids=ids)

    assert list(Link.objects.filter(campaign=campaign).values_list("url", flat=True))
    assert Link.objects.filter(campaign=campaign, url=TARGET).count() == 1


def test_the_mailgun_batch_call_carries_each_readers_links(issue, settings) -> None:
    mailing_list = MailingListFactory()
    tracked = ContactFactory(subscribed_to=[mailing_list], tracking_consent=True)
    plain = ContactFactory(subscribed_to=[mailing_list], tracking_consent=False)
    campaign = campaign_create(page=issue, lists=[mailing_list])
    ids = campaign_prepare(campaign_id=campaign.pk)

    with StandInProvider().running() as provider:
        settings.ANYMAIL = provider.anymail_settings()
        settings.EMAIL_BACKEND = "anymail.backends.mailgun.EmailBackend"
        delivery_send_batch(campaign_id=campaign.pk, delivery_ids=ids)

    assert len(provider.calls) == 1
    link = Link.objects.get(campaign=campaign, url=TARGET)
    delivered = {mail.recipient: mail for mail in provider.delivered}
    tracking = reader_tracking_id(
        Delivery.objects.get(campaign=campaign, contact=tracked)
    )
    assert f'href="{click_url(tracking, link.pk)}"' in delivered[tracked.email].html
    assert f'href="{TARGET}"' in delivered[plain.email].html
    assert "/t/c/" not in delivered[plain.email].html


def test_a_click_records_one_event_and_redirects_to_the_stored_url(
    client, sent
) -> None:
    delivery = sent["tracked"]
    link = Link.objects.get(campaign=sent["campaign"], url=TARGET)

    response = client.get(
        click_url(delivery.token, link.pk) + "?url=https://evil.example/",
        HTTP_USER_AGENT="Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0",
    )

    assert response.status_code == 302
    assert response["Location"] == TARGET
    assert "no-cache" in response["Cache-Control"]
    event = TrackingEvent.objects.get()
    assert (event.delivery, event.kind, event.source, event.link) == (
        delivery,
        "clicked",
        "redirect",
        TARGET,
    )
    assert not event.is_machine


def test_a_scanners_click_is_recorded_flagged_as_machine(client, sent) -> None:
    delivery = sent["tracked"]
    link = Link.objects.get(campaign=sent["campaign"], url=TARGET)

    response = client.get(
        click_url(delivery.token, link.pk), HTTP_USER_AGENT="python-requests/2.32"
    )

    assert response.status_code == 302
    event = TrackingEvent.objects.get()
    assert (event.is_machine, event.machine_reason) == (True, "scanner_agent")


def test_a_reader_who_withdrew_consent_is_redirected_and_leaves_no_trace(
    client, sent
) -> None:
    delivery = sent["tracked"]
    link = Link.objects.get(campaign=sent["campaign"], url=TARGET)
    delivery.contact.tracking_consent = False
    delivery.contact.save()

    response = client.get(click_url(delivery.token, link.pk))
    client.get(pixel_url(delivery.token))

    assert response.status_code == 302
    assert response["Location"] == TARGET
    assert TrackingEvent.objects.count() == 0


def test_anonymous_mode_keeps_no_click_or_open_of_anyone(
    client, sent, settings
) -> None:
    settings.RELAY_ANONYMOUS_TRACKING = True
    delivery = sent["tracked"]
    link = Link.objects.get(campaign=sent["campaign"], url=TARGET)

    response = client.get(click_url(delivery.token, link.pk))
    pixel = client.get(pixel_url(delivery.token))

    assert (response.status_code, response["Location"]) == (302, TARGET)
    assert pixel.status_code == 200
    assert TrackingEvent.objects.count() == 0


def _assert_plain_404(response) -> None:
    assert response.status_code == 404
    assert "Location" not in response
    assert TrackingEvent.objects.count() == 0


@pytest.mark.parametrize(
    "tail",
    [
        "//evil.example/",
        "//evil.example",
        "/\\evil.example/",
        "\\\\evil.example/",
        "https:/\\evil.example/",
        "https://evil.example/",
        "https%3A%2F%2Fevil.example/",
        "%2F%2Fevil.example/",
        "%5C%5Cevil.example/",
        "javascript:alert(1)/",
        "javascript%3Aalert(1)/",
        "JaVaScRiPt:alert(document.domain)//",
        "@evil.example/",
        "%0a//evil.example/",
        "1%2F/",
        "-1/",
        "0/",
        "99999999/",
        "999999999999999999999999/",
        "１/",  # a full-width digit
        "1",
        "1/x/",
        "",
    ],
)
def test_every_click_url_not_in_the_link_map_gets_a_plain_404(
    client, sent, tail
) -> None:
    delivery = sent["tracked"]

    _assert_plain_404(client.get(f"/t/c/{delivery.token}/{tail}"))


@pytest.mark.parametrize(
    "path",
    [
        "/t/c/",
        "/t/c",
        "/t/c//evil.example",
        "/t/c/%2F%2Fevil.example/1/",
        "/t/c/javascript:alert(1)/1/",
    ],
)
def test_malformed_click_paths_get_a_plain_404(client, sent, path) -> None:
    _assert_plain_404(client.get(path))


def test_a_link_of_another_campaign_gets_a_404(client, sent, issue) -> None:
    other = campaign_create(page=issue, lists=[MailingListFactory()])
    foreign = Link.objects.create(campaign=other, url="https://evil.example/")

    response = client.get(click_url(sent["tracked"].token, foreign.pk))

    _assert_plain_404(response)


@pytest.mark.parametrize(
    "alter",
    [
        lambda token: token[:-1] + ("A" if token[-1] != "A" else "B"),
        lambda token: token + "x",
        lambda token: token[:8],
        lambda token: "%2E%2E%2F" + token,
    ],
)
def test_a_wrong_token_gets_a_404(client, sent, alter) -> None:
    link = Link.objects.get(campaign=sent["campaign"], url=TARGET)

    response = client.get(f"/t/c/{alter(sent['tracked'].token)}/{link.pk}/")

    _assert_plain_404(response)


def test_a_valid_token_with_an_altered_link_id_gets_a_404(client, sent) -> None:
    link = Link.objects.get(campaign=sent["campaign"], url=TARGET)
    delivery = sent["tracked"]

    for link_id in (link.pk + 1, link.pk - 1, link.pk * 10):
        _assert_plain_404(client.get(f"/t/c/{delivery.token}/{link_id}/"))
    _assert_plain_404(client.get(f"/t/c/{delivery.token}/{link.pk}"))


def test_the_click_redirect_answers_get_only(client, sent) -> None:
    link = Link.objects.get(campaign=sent["campaign"], url=TARGET)

    response = client.post(click_url(sent["tracked"].token, link.pk))

    assert response.status_code == 405
    assert TrackingEvent.objects.count() == 0


def test_only_http_links_outside_merge_fields_are_rewritten(issue) -> None:
    campaign = campaign_create(page=issue, lists=[MailingListFactory()])
    markup = (
        '<a href="https://example.org/a?x=1&amp;y=2">a</a>'
        "<a class=\"b\" href='http://example.org/b'>b</a>"
        '<a href="https://example.org/a?x=1&amp;y=2">again</a>'
        '<a href="mailto:desk@example.org">mail</a>'
        '<a href="{{relay:unsubscribe_url}}">unsubscribe</a>'
        '<a href="https://relay.example/en/issue/">web</a>'
        '<a href="javascript:alert(1)">js</a>'
        '<img src="https://example.org/logo.png">'
    )

    rewritten, links = links_rewrite(
        markup, campaign_id=campaign.pk, web_url="https://relay.example/en/issue/"
    )

    assert sorted(links.values()) == [
        "http://example.org/b",
        "https://example.org/a?x=1&y=2",
    ]
    for pk in links:
        assert rewritten.count("{{relay:link_" + str(pk) + "}}") >= 1
    assert len(re.findall(r"\{\{relay:link_\d+\}\}", rewritten)) == 3
    for kept in (
        "mailto:desk@example.org",
        "{{relay:unsubscribe_url}}",
        'href="https://relay.example/en/issue/"',
        "javascript:alert(1)",
        'src="https://example.org/logo.png"',
    ):
        assert kept in rewritten
    # Rendering the same variant again reuses the stored links.
    again, links_again = links_rewrite(
        markup, campaign_id=campaign.pk, web_url="https://relay.example/en/issue/"
    )
    assert (again, links_again) == (rewritten, links)
    assert Link.objects.filter(campaign=campaign).count() == 2


def test_a_click_is_one_read_and_one_insert(client, sent) -> None:
    delivery = sent["tracked"]
    link = Link.objects.get(campaign=sent["campaign"], url=TARGET)

    with CaptureQueriesContext(connection) as queries:
        response = client.get(click_url(delivery.token, link.pk))

    assert response["Location"] == TARGET
    # The delivery, its reader's consent, the link and the burst window's
    # clicks in one query; then the event (on PostgreSQL committed without
    # waiting for the disk).
    statements = [query["sql"] for query in queries.captured_queries]
    assert len(statements) == 2
    assert statements[0].startswith("SELECT")
    assert statements[1].removeprefix(hit_commit_sql()[0]).startswith("INSERT INTO")
    assert TrackingEvent.objects.get().link == TARGET


def _two_links(sent) -> list[Link]:
    other = Link.objects.create(
        campaign=sent["campaign"], url="https://example.org/other", position=99
    )
    return [Link.objects.get(campaign=sent["campaign"], url=TARGET), other]


def test_redirect_clicks_on_two_links_seconds_after_delivery_are_a_scanner_burst(
    client, sent
) -> None:
    delivery = sent["tracked"]
    Delivery.objects.filter(pk=delivery.pk).update(
        sent_at=timezone.now() - timedelta(seconds=5)
    )
    first, second = _two_links(sent)
    agent = "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0"

    client.get(click_url(delivery.token, first.pk), HTTP_USER_AGENT=agent)
    assert not TrackingEvent.objects.get().is_machine  # one link: a keen reader
    client.get(click_url(delivery.token, first.pk), HTTP_USER_AGENT=agent)
    assert not TrackingEvent.objects.filter(is_machine=True).exists()
    response = client.get(click_url(delivery.token, second.pk), HTTP_USER_AGENT=agent)

    assert response["Location"] == second.url
    assert list(
        TrackingEvent.objects.order_by("pk").values_list(
            "link", "is_machine", "machine_reason"
        )
    ) == [
        (TARGET, True, "scanner_burst"),
        (TARGET, True, "scanner_burst"),
        (second.url, True, "scanner_burst"),
    ]


def test_redirect_clicks_a_day_after_delivery_are_a_persons(client, sent) -> None:
    delivery = sent["tracked"]
    Delivery.objects.filter(pk=delivery.pk).update(
        sent_at=timezone.now() - timedelta(days=1)
    )
    for link in _two_links(sent):
        client.get(click_url(delivery.token, link.pk))

    assert list(TrackingEvent.objects.values_list("is_machine", flat=True)) == [
        False,
        False,
    ]


def test_the_first_delivered_event_not_the_send_starts_the_burst_window(
    client, sent
) -> None:
    delivery = sent["tracked"]
    now = timezone.now()
    Delivery.objects.filter(pk=delivery.pk).update(sent_at=now)
    TrackingEvent.objects.create(
        delivery=delivery,
        kind=TrackingEvent.Kind.DELIVERED,
        source=TrackingEvent.Source.PROVIDER,
        occurred_at=now - timedelta(hours=2),
        provider_event_id="postmark:delivered-1",
    )
    for link in _two_links(sent):
        client.get(click_url(delivery.token, link.pk))

    clicks = TrackingEvent.objects.filter(kind=TrackingEvent.Kind.CLICKED)
    assert list(clicks.values_list("is_machine", flat=True)) == [False, False]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="synchronous_commit is PostgreSQL's"
)
def test_a_hits_commit_setting_does_not_outlast_its_statement(client, sent) -> None:
    delivery = sent["tracked"]
    link = Link.objects.get(campaign=sent["campaign"], url=TARGET)

    client.get(click_url(delivery.token, link.pk))
    client.get(pixel_url(delivery.token))

    assert TrackingEvent.objects.count() == 2
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone()[0] == "on"

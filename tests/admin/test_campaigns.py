"""The campaign pages of the admin: who may use them, POST-only changes, clear errors."""

from __future__ import annotations

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from newsletter.models import Campaign
from newsletter.sending.campaigns import campaign_create
from tests.factories import ContactFactory, MailingListFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def campaign(issue, secretariat_user) -> Campaign:
    readers = MailingListFactory(name="Network news")
    ContactFactory.create_batch(
        3, preferred_language="de", country="DE", subscribed_to=[readers]
    )
    ContactFactory(
        preferred_language="pl",
        fallback_languages=[],
        country="PL",
        subscribed_to=[readers],
    )
    return campaign_create(page=issue, lists=[readers], created_by=secretariat_user)


def action(campaign: Campaign, name: str) -> str:
    return reverse("newsletter_campaign_action", args=[campaign.pk, name])


def test_translators_get_403_on_every_campaign_page(
    translator_client, campaign
) -> None:
    urls = [
        reverse("newsletter_campaigns"),
        reverse("newsletter_campaign_new"),
        reverse("newsletter_campaign", args=[campaign.pk]),
        reverse("newsletter_campaign_progress", args=[campaign.pk]),
        reverse("newsletter_campaign_resend", args=[campaign.pk]),
    ]
    for url in urls:
        assert translator_client.get(url).status_code == 403, url
    assert translator_client.post(action(campaign, "send")).status_code == 403
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.DRAFT


def test_the_campaign_page_shows_the_counts_per_language_and_country(
    secretariat_client, campaign
) -> None:
    response = secretariat_client.get(
        reverse("newsletter_campaign", args=[campaign.pk])
    )

    html = response.content.decode()
    forecast = response.context["forecast"]
    assert forecast.total == 4
    assert forecast.sent_by_language == {"de": 3, "en": 1}
    assert "1 → en (source)" in html
    assert "Germany" in html


def test_actions_are_post_only(secretariat_client, campaign) -> None:
    response = secretariat_client.get(action(campaign, "send"))

    assert response.status_code == 405
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.DRAFT


def test_actions_need_the_csrf_token(secretariat_user, campaign) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(secretariat_user)

    response = client.post(action(campaign, "send"))

    assert response.status_code == 403
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.DRAFT


def test_the_send_button_on_an_issue_leads_to_the_form_with_the_page_chosen(
    secretariat_client, issue
) -> None:
    edit = secretariat_client.get(reverse("wagtailadmin_pages:edit", args=[issue.pk]))
    url = reverse("newsletter_campaign_new") + f"?page={issue.pk}"
    assert url in edit.content.decode()

    form = secretariat_client.get(url).context["form"]

    assert form.initial["page"] == issue.pk


def test_a_form_without_audience_is_refused_with_a_clear_error(
    secretariat_client, issue
) -> None:
    response = secretariat_client.post(
        reverse("newsletter_campaign_new"),
        {"page": issue.pk, "language_policy": "source"},
    )

    assert response.status_code == 200
    assert "Choose at least one mailing list or segment." in response.content.decode()
    assert not Campaign.objects.exists()


def test_a_bad_test_address_is_refused_and_good_ones_get_the_test(
    secretariat_client, campaign
) -> None:
    secretariat_client.post(
        action(campaign, "test"), {"to": "nobody@, x@example.org", "language": "de"}
    )
    assert mail.outbox == []

    response = secretariat_client.post(
        action(campaign, "test"),
        {"to": "x@example.org, y@example.org", "language": "de"},
        follow=True,
    )

    assert sorted(m.to[0] for m in mail.outbox) == ["x@example.org", "y@example.org"]
    assert mail.outbox[0].subject.startswith("[Test]")
    assert "Test sent to" in response.content.decode()


def test_a_schedule_in_the_past_is_refused(secretariat_client, campaign) -> None:
    response = secretariat_client.post(
        action(campaign, "schedule"), {"at": "2001-01-01 10:00"}, follow=True
    )

    assert "Choose a time in the future." in response.content.decode()
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.DRAFT


def test_the_creator_cannot_approve_their_own_campaign(
    secretariat_client, campaign, settings
) -> None:
    settings.RELAY_CAMPAIGN_APPROVAL = True

    response = secretariat_client.post(action(campaign, "approve"), follow=True)

    assert "cannot approve" in response.content.decode()
    campaign.refresh_from_db()
    assert campaign.approved_by is None


def test_progress_json_reports_the_ledger(secretariat_client, campaign) -> None:
    data = secretariat_client.get(
        reverse("newsletter_campaign_progress", args=[campaign.pk])
    ).json()

    assert data["status"] == "draft"
    assert data["prepared"] == 0 and data["percent"] == 0


def test_a_sent_campaign_shows_no_empty_actions_and_no_time_left(
    secretariat_client, campaign
) -> None:
    Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.SENT)

    page = secretariat_client.get(
        reverse("newsletter_campaign", args=[campaign.pk])
    ).content.decode()

    assert "data-campaign-actions" not in page  # nothing left to do: no "Sending"
    assert "data-progress-eta-part hidden" in page


def test_a_draft_campaign_shows_its_actions(secretariat_client, campaign) -> None:
    page = secretariat_client.get(
        reverse("newsletter_campaign", args=[campaign.pk])
    ).content.decode()

    assert "data-campaign-actions" in page
    assert 'data-action="send"' in page

"""In a real headless Chromium: the secretariat sends the demo issue, start to finish.

A real Celery worker (``worker`` fixture of the integration tests) prepares and
sends the campaign; the page polls the progress endpoint until the bar is full.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.models import Group
from django.core import mail
from django.core.management import call_command
from playwright.sync_api import expect

from cms.models import NewsletterIssuePage
from newsletter.models import Campaign, Delivery
from newsletter.sending.recovery import campaign_ledger
from tests.integration.conftest import worker  # noqa: F401 - the fixture

pytestmark = [
    pytest.mark.browser,
    pytest.mark.worker,
    pytest.mark.usefixtures("worker"),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

SCREENSHOTS = Path(django_settings.BASE_DIR) / "test-artifacts" / "screenshots"


def test_the_secretariat_sends_the_demo_issue_and_watches_it_reach_100_percent(
    browser,
    live_server,
    django_user_model,
    settings,
) -> None:
    call_command("load_demo", verbosity=0)
    issue = NewsletterIssuePage.objects.get(
        slug="newsletter-1", locale__language_code="en"
    )
    user = django_user_model.objects.create_user(
        "sara", "sara@secretariat.example.org", "a-long-password"
    )
    user.groups.add(Group.objects.get(name="Secretariat"))
    context = browser.new_context(viewport={"width": 1400, "height": 1100})
    page = context.new_page()
    page.route(
        "**/*",
        lambda route: (
            route.continue_()
            if route.request.url.startswith(live_server.url)
            else route.abort()
        ),
    )
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "sara")
    page.fill("#id_password", "a-long-password")
    page.click("button[type=submit]")

    # "Send…" on the issue's page header.
    page.goto(f"{live_server.url}/admin/pages/{issue.pk}/edit/")
    send = page.locator(f'a[href$="/admin/campaigns/new/?page={issue.pk}"]').first
    if not send.is_visible():
        page.locator("header [data-controller='w-dropdown'] button").last.click()
    send.click()
    page.wait_for_url(re.compile(r".*/admin/campaigns/new/\?page=\d+"))
    assert page.locator("#id_page").input_value() == str(issue.pk)

    page.get_by_label("Network newsletter").check()
    languages = page.locator("[data-campaign-forecast] [data-forecast-languages]")
    expect(languages).to_be_visible()
    page.get_by_role("button", name="Create draft").click()
    page.wait_for_url(re.compile(r".*/admin/campaigns/\d+/$"))
    campaign = Campaign.objects.get()

    # The counts per language: 30 demo readers, each line names what they get.
    rows = page.locator("[data-forecast-languages] tbody tr")
    assert rows.count() >= 3
    total = sum(
        int(rows.nth(i).locator("td").nth(1).inner_text()) for i in range(rows.count())
    )
    assert total == 30
    expect(
        page.locator('[data-forecast-languages] tr[data-language="de"]')
    ).to_contain_text("→ de")

    # A test to the user's own address (the default).
    assert page.locator("#id_to").input_value() == user.email
    page.get_by_role("button", name="Send test").click()
    expect(
        page.get_by_text("Test sent to sara@secretariat.example.org")
    ).to_be_visible()
    tests = [m for m in mail.outbox if m.to == [user.email]]
    assert len(tests) == 1 and tests[0].subject.startswith("[Test]")

    # Send, and watch the bar reach 100 %.
    page.get_by_role("button", name="Send now").click()
    percent = page.locator("[data-progress-percent]")
    expect(percent).to_have_text("100%", timeout=90_000)
    expect(page.locator("[data-campaign-status]")).to_have_text("Sent")
    expect(page.locator("[data-deliveries] tbody tr").first).to_have_attribute(
        "data-status", "sent"
    )

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shot = SCREENSHOTS / "campaign-sent.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 5000

    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SENT
    ledger = campaign_ledger(campaign_id=campaign.pk)
    assert ledger.audience == 30
    assert ledger.sent + ledger.failed + ledger.skipped + ledger.uncertain == 30
    sent_to = [m.to[0] for m in mail.outbox if m.to != [user.email]]
    assert len(sent_to) == len(set(sent_to)) == ledger.sent
    assert (
        Delivery.objects.filter(campaign=campaign, status="sent").count() == ledger.sent
    )
    context.close()

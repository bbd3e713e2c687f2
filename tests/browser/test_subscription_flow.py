"""The whole public flow in a real headless Chromium.

Fails, never skips, when Chromium is missing: Debian's /usr/bin/chromium is
part of the test environment (no ``playwright install``).
"""

from __future__ import annotations

import email
import email.policy
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from cms.celery import app
from newsletter.audience.suppression import is_suppressed
from newsletter.models import Contact, Subscription
from tests.factories import MailingListFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def site(settings, live_server, tmp_path: Path) -> Iterator[str]:
    """The live site, mailing to an outbox folder, with tasks run on commit."""
    settings.EMAIL_BACKEND = "newsletter.sending.outbox.EmailBackend"
    settings.RELAY_OUTBOX_DIR = tmp_path
    settings.RELAY_BASE_URL = live_server.url
    app.conf.task_always_eager = True
    try:
        yield live_server.url
    finally:
        app.conf.task_always_eager = False


def confirmation_link(outbox: Path) -> str:
    (path,) = outbox.glob("*.eml")
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert message["Content-Language"] == "bg"
    html = message.get_body(preferencelist=("html",)).get_content()
    return re.search(r'href="([^"]+/bg/subscribe/confirm/[^"]+)"', html).group(1)


def test_subscribe_in_bulgarian_confirm_switch_to_romanian_and_leave(
    browser, site, settings
) -> None:
    MailingListFactory(name="Relay news", slug="relay-news", is_public=True)
    page = browser.new_page()
    page.route(
        "**/*",
        lambda route: (
            route.continue_() if route.request.url.startswith(site) else route.abort()
        ),
    )

    page.goto(f"{site}/bg/subscribe/")
    expect(page.locator("html")).to_have_attribute("lang", "bg")
    expect(page.locator("h1")).to_have_text("Абониране за бюлетина")
    page.get_by_label("Имейл адрес").fill("maria@example.org")
    page.get_by_label("Собствено име (по желание)").fill("Мария")
    page.wait_for_timeout(3200)  # people take a few seconds; bots are refused
    page.get_by_role("button", name="Абониране").click()
    expect(page.locator("h1")).to_have_text("Проверете входящата си поща")

    page.goto(confirmation_link(Path(settings.RELAY_OUTBOX_DIR)))
    expect(page.locator("h1")).to_have_text("Потвърдете абонамента си")
    page.get_by_role("button", name="Да, абонирайте ме").click()
    expect(page.locator("h1")).to_have_text("Абонаментът ви е потвърден")
    contact = Contact.objects.get(email="maria@example.org")
    assert Subscription.objects.get(contact=contact).status == "subscribed"

    page.get_by_role("link", name="Управление на настройките").click()
    expect(page.locator("h1")).to_have_text("Вашите настройки")
    page.get_by_label("Език на вашите имейли").select_option("ro")
    page.get_by_role("button", name="Запазване на настройките").click()
    expect(page.locator("html")).to_have_attribute("lang", "ro")
    expect(page.get_by_role("status")).to_have_text(
        "Preferințele dumneavoastră au fost salvate."
    )
    contact.refresh_from_db()
    assert contact.preferred_language == "ro"

    page.get_by_role("button", name="Dezabonare de la tot").click()
    expect(page.locator("h1")).to_have_text("V-ați dezabonat")
    contact.refresh_from_db()
    assert contact.status == Contact.Status.UNSUBSCRIBED
    assert is_suppressed(contact.email)
    assert Subscription.objects.get(contact=contact).status == "unsubscribed"

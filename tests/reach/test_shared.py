"""An MP's own web version, shared links and QR codes, and the estimate of mail-client forwards."""

from __future__ import annotations

import io
import re

import pytest
from django.test import Client
from pypdf import PdfReader

from newsletter.models import Contact, OpenDevice, Referral, ReferralVisitor
from newsletter.reach.metrics import reach_figures
from newsletter.tracking.referrals import VISITOR_COOKIE
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db

BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:131.0) Gecko/20100101 Firefox/131.0"


@pytest.fixture
def shared_path(client, mp_delivery) -> str:
    page = client.get(f"/en/read/{mp_delivery.token}/").content.decode()
    url = re.search(r'id="shared-link"[^>]*value="([^"]+)"', page).group(1)
    return url.removeprefix("http://testserver")


def test_the_mp_web_version_shows_their_shared_link_forward_link_and_qr_briefing(
    client, mp_delivery, pack
) -> None:
    response = client.get(f"/en/read/{mp_delivery.token}/")

    page = response.content.decode()
    assert response.status_code == 200
    assert response["Referrer-Policy"] == "no-referrer"
    assert pack.title in page
    link = Referral.objects.get(delivery=mp_delivery, kind="link")
    qr = Referral.objects.get(delivery=mp_delivery, kind="qr")
    assert f'value="http://testserver/s/{link.token}/"' in page
    assert "Copy your shared link" in page
    assert f"/en/forward/{mp_delivery.token}/" in page
    assert f"briefing/{qr.token}/" in page
    # Asking again makes no second referral.
    client.get(f"/en/read/{mp_delivery.token}/")
    assert Referral.objects.filter(delivery=mp_delivery).count() == 2


def test_the_public_page_has_no_pass_on_tools(client, pack) -> None:
    page = client.get(pack.url).content.decode()

    assert "Copy your shared link" not in page and "/s/" not in page


def test_the_web_version_is_a_404_for_anyone_but_the_mp(
    client, send_pack, mp_delivery
) -> None:
    ngo = ContactFactory(kind=Contact.Kind.NGO)
    send_pack([ngo])

    assert client.get(f"/en/read/{ngo.deliveries.get().token}/").status_code == 404
    assert client.get("/en/read/not-a-token-at-all/").status_code == 404
    assert not Referral.objects.exists()


def test_a_shared_link_shows_the_public_page_and_counts_a_browser_once(
    shared_path, pack
) -> None:
    browser = Client()

    first = browser.get(shared_path, HTTP_USER_AGENT=BROWSER)
    browser.get(shared_path, HTTP_USER_AGENT=BROWSER)
    Client().get(shared_path, HTTP_USER_AGENT=BROWSER)

    assert first.status_code == 302 and first["Location"] == pack.url
    cookie = first.cookies[VISITOR_COOKIE]
    assert (
        cookie["path"] == "/s/" and cookie["httponly"] and cookie["samesite"] == "Lax"
    )
    visitors = ReferralVisitor.objects.filter(is_machine=False)
    assert sorted(visitors.values_list("visits", flat=True)) == [1, 2]
    # Only a keyed hash of the cookie is stored.
    assert cookie.value not in {v.visitor_key for v in visitors}
    assert reach_figures().indirect_reach == 2


def test_machines_are_flagged_apart_and_given_no_cookie(shared_path) -> None:
    bot = Client().get(shared_path, HTTP_USER_AGENT="python-requests/2.32")
    Client().head(shared_path, HTTP_USER_AGENT=BROWSER)
    Client().get(shared_path, HTTP_USER_AGENT=BROWSER, HTTP_SEC_PURPOSE="prefetch")
    Client().get(shared_path)

    assert VISITOR_COOKIE not in bot.cookies
    machine = ReferralVisitor.objects.get(is_machine=True)
    assert (machine.visits, machine.visitor_key) == (4, "")
    figures = reach_figures()
    assert (figures.indirect_reach, figures.machine_visits) == (0, 4)


def test_global_privacy_control_is_counted_as_a_visit_not_a_person(shared_path) -> None:
    response = Client().get(shared_path, HTTP_USER_AGENT=BROWSER, HTTP_SEC_GPC="1")

    assert response.status_code == 302 and VISITOR_COOKIE not in response.cookies
    assert ReferralVisitor.objects.get().visitor_key == ""
    assert reach_figures().indirect_reach == 0


@pytest.mark.parametrize(
    "path", ["/s/AAAAAAAAAAAAAAAAAAAAAA/", "/s/x/", "/s/", "/s/../etc"]
)
def test_an_unknown_shared_link_is_a_plain_404(client, path) -> None:
    assert client.get(path).status_code == 404
    assert not ReferralVisitor.objects.exists()


def test_the_mp_briefing_carries_a_qr_code_of_their_qr_link(
    client, mp_delivery, pack
) -> None:
    page = client.get(f"/en/read/{mp_delivery.token}/").content.decode()
    path = re.search(r'href="([^"]*briefing/[\w-]+/)"', page).group(1)
    qr = Referral.objects.get(delivery=mp_delivery, kind="qr")

    personal = PdfReader(io.BytesIO(client.get(path).content))
    generic = PdfReader(io.BytesIO(client.get(f"{pack.url}briefing/").content))

    personal_text = "".join(p.extract_text() for p in personal.pages)
    generic_text = "".join(p.extract_text() for p in generic.pages)
    assert f"http://testserver/s/{qr.token}/" in personal_text
    assert "/s/" not in generic_text and f"http://testserver{pack.url}" in generic_text
    # A QR link of another pack, or a shared (not QR) link, is refused.
    link = Referral.objects.get(delivery=mp_delivery, kind="link")
    assert client.get(f"{pack.url}briefing/{link.token}/").status_code == 404
    # Scanning the code is a QR visit, counted for the MP.
    Client().get(f"/s/{qr.token}/", HTTP_USER_AGENT=BROWSER)
    assert reach_figures().qr_visitors == 1


def test_the_briefing_html_embeds_a_vector_qr_code(pack) -> None:
    from cms.briefing import briefing_html

    markup = briefing_html(pack, share_url="http://testserver/s/abc/")

    assert 'src="data:image/svg+xml;base64,' in markup
    assert "http://testserver/s/abc/" in markup


def test_new_devices_on_an_mps_pixel_are_an_estimate_kept_apart(
    client, mp_delivery
) -> None:
    pixel = f"/t/o/{mp_delivery.token}.gif"
    # The MP: phone and computer, the computer twice from one network.
    client.get(pixel, HTTP_USER_AGENT="iPhone Mail", REMOTE_ADDR="10.0.0.5")
    client.get(pixel, HTTP_USER_AGENT="Thunderbird/128", REMOTE_ADDR="10.0.1.5")
    client.get(pixel, HTTP_USER_AGENT="Thunderbird/128", REMOTE_ADDR="10.0.1.77")
    # Apple's privacy proxy: a machine, never a reader.
    client.get(pixel, HTTP_USER_AGENT="Mozilla/5.0", REMOTE_ADDR="17.1.1.1")
    # Two colleagues reading a copy forwarded from the MP's mail program.
    client.get(pixel, HTTP_USER_AGENT="Outlook/16", REMOTE_ADDR="10.9.0.1")
    client.get(pixel, HTTP_USER_AGENT="Outlook/16", REMOTE_ADDR="10.8.0.1")

    figures = reach_figures()

    assert OpenDevice.objects.filter(is_machine=False).count() == 4
    assert (figures.indirect_estimated, figures.indirect_reach) == (2, 0)
    # No address is stored, only keyed fingerprints.
    assert not any("10." in d.fingerprint for d in OpenDevice.objects.all())

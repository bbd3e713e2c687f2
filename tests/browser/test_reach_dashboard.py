"""In a real headless Chromium: the reach dashboard, its map and chart, and both downloads."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.models import Group
from openpyxl import load_workbook

from tests.reach.conftest import ledger  # noqa: F401 (the known-answer ledger)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

SCREENSHOTS = Path(django_settings.BASE_DIR) / "test-artifacts" / "screenshots"


def test_the_dashboard_renders_its_map_and_chart_and_both_files_download(
    browser,
    live_server,
    django_user_model,
    ledger,  # noqa: F811
) -> None:
    secretary = django_user_model.objects.create_user(
        "sam", "sam@example.org", "a-long-password"
    )
    secretary.groups.add(Group.objects.get(name="Secretariat"))
    context = browser.new_context(
        viewport={"width": 1400, "height": 1000}, accept_downloads=True
    )
    page = context.new_page()
    outside: list[str] = []

    def only_local(route) -> None:
        if route.request.url.startswith(live_server.url):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.route("**/*", only_local)
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "sam")
    page.fill("#id_password", "a-long-password")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")

    page.get_by_role("link", name="Reach").click()
    page.wait_for_url("**/admin/reach/")
    page.wait_for_load_state("networkidle")

    # The map: an inline SVG of Europe with the reached countries shaded.
    map_svg = page.locator('[data-chart="map"] > svg')
    assert map_svg.count() == 1
    shaded = page.locator('[data-chart="map"] g.country.series')
    assert shaded.count() == 5  # DE, FR, RO, PL, ES
    germany = page.locator('[data-chart="map"] g.de.series')
    assert (
        germany.locator("title").text_content() == "Germany: 3 (MPs reached directly)"
    )
    fill = germany.locator("path").first.evaluate("e => getComputedStyle(e).fill")
    unreached = page.locator('[data-chart="map"] g.it path').first.evaluate(
        "e => getComputedStyle(e).fill"
    )
    assert fill != unreached
    assert germany.bounding_box()["width"] > 20
    # The chart: one line per series, drawn.
    assert page.locator('[data-chart="timeline"] > svg').count() == 1
    assert page.locator('[data-chart="timeline"] path.line').count() >= 4
    progress = page.locator('[data-target="direct_mps"] [role=progressbar]')
    assert progress.get_attribute("aria-valuenow") == "8"
    indirect = page.locator('[data-target="indirect"]')
    assert indirect.locator("[role=progressbar]").get_attribute("aria-valuenow") == "0"
    assert "Estimated, not included: 0" in indirect.inner_text()
    # Nothing of the dashboard comes from elsewhere, not even avatars.
    assert outside == []

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shot = SCREENSHOTS / "reach-dashboard.png"
    # The admin scrolls inside its own frame: a tall window shows the map and chart.
    page.set_viewport_size({"width": 1400, "height": 2400})
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 20000

    # Filter to November, then download both files through the browser.
    page.fill("#id_start", "2026-11-01")
    page.fill("#id_end", "2026-11-30")
    page.get_by_role("button", name="Show").click()
    page.wait_for_load_state("networkidle")
    assert (
        page.locator('[data-target="direct_mps"] [role=progressbar]').get_attribute(
            "aria-valuenow"
        )
        == "4"
    )
    with page.expect_download() as csv_download:
        page.get_by_role("link", name="Download CSV").click()
    with page.expect_download() as xlsx_download:
        page.get_by_role("link", name="Download XLSX").click()

    csv_path = csv_download.value.path()
    assert csv_download.value.suggested_filename.endswith(".csv")
    rows = list(csv.reader(io.StringIO(Path(csv_path).read_text("utf-8-sig"))))
    assert rows[0] == ["Relay reach report", "2026-11-01 to 2026-12-01 (end excluded)"]
    assert ["Direct reach (MPs)", "4", "100"] in rows
    assert xlsx_download.value.suggested_filename.endswith(".xlsx")
    # Playwright keeps downloads under a name without an extension.
    workbook = load_workbook(io.BytesIO(xlsx_download.value.path().read_bytes()))
    summary = list(workbook["Reach"].iter_rows(values_only=True))
    assert ("Direct reach (MPs)", 4, 100) in summary
    assert ("Engaged direct reach (MPs)", 2, None) in summary
    context.close()

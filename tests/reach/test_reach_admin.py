"""The reach dashboard in the admin: who may see it, its filters and its downloads."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from newsletter.models import Campaign
from newsletter.reach.metrics import DEFINITIONS, definitions
from tests.factories import MailingListFactory

from .conftest import OCTOBER, sent

pytestmark = pytest.mark.django_db

DASHBOARD = reverse("cms_reach_dashboard")


def export(kind: str) -> str:
    return reverse("cms_reach_export", args=[kind])


def test_the_secretariat_sees_the_dashboard_with_its_map_and_chart(
    ledger, secretariat_client
) -> None:
    response = secretariat_client.get(DASHBOARD)

    assert response.status_code == 200
    board = response.context["board"]
    assert board.figures.direct_reach == 8
    html = response.content.decode()
    assert 'data-chart="map"' in html and 'data-chart="timeline"' in html
    # Germany shaded, with its name and figure as the country's title.
    assert "<title>Germany: 3 (MPs reached directly)</title>" in html
    assert "<title>Poland: 1 (MPs reached directly)</title>" in html
    # Nothing is loaded from elsewhere: pygal's tooltip script is left out.
    assert "<script" not in response.context["map_svg"]
    assert "kozea.github.io" not in html


def test_the_dashboard_speaks_the_users_language(ledger, secretariat_client) -> None:
    response = secretariat_client.get(DASHBOARD, HTTP_ACCEPT_LANGUAGE="de")

    html = response.content.decode()
    assert "Deutschland" in html
    assert "Rumänien" in html


def test_translators_get_403_and_anonymous_users_the_login(
    ledger, translator_client, client
) -> None:
    assert translator_client.get(DASHBOARD).status_code == 403
    assert translator_client.get(export("csv")).status_code == 403
    assert translator_client.get(export("xlsx")).status_code == 403
    anonymous = client.get(DASHBOARD)
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith(reverse("wagtailadmin_login"))
    assert client.get(export("xlsx")).status_code == 302


def test_the_reach_menu_item_is_shown_to_the_secretariat_only(
    ledger, secretariat_client, translator_client
) -> None:
    home = reverse("wagtailadmin_home")

    assert DASHBOARD in secretariat_client.get(home).content.decode()
    assert DASHBOARD not in translator_client.get(home).content.decode()


def test_the_period_filter(ledger, secretariat_client) -> None:
    response = secretariat_client.get(
        DASHBOARD, {"start": "2026-11-01", "end": "2026-11-30"}
    )

    assert response.status_code == 200
    figures = response.context["board"].figures
    assert (figures.direct_reach, figures.engaged_direct_reach) == (4, 2)


def test_a_preset_period(ledger, secretariat_client, time_machine) -> None:
    time_machine.move_to("2026-11-20 12:00Z")

    last_30_days = secretariat_client.get(DASHBOARD, {"preset": "30d"})
    this_year = secretariat_client.get(DASHBOARD, {"preset": "this_year"})
    last_year = secretariat_client.get(DASHBOARD, {"preset": "last_year"})

    assert last_30_days.context["board"].figures.direct_reach == 4
    assert this_year.context["board"].figures.direct_reach == 8
    assert last_year.context["board"].figures.direct_reach == 0


def test_the_event_filter_keeps_the_campaigns_of_the_events_packs(
    ledger, secretariat_client, event, pack
) -> None:
    response = secretariat_client.get(DASHBOARD, {"event": event.pk})

    board = response.context["board"]
    assert [row.campaign for row in board.campaigns] == ["Bucharest pack"]
    assert board.figures.direct_reach == 4


def test_a_campaign_sent_as_a_translated_pack_belongs_to_the_event(
    ledger, secretariat_client, event, pack
) -> None:
    bulgarian = pack.get_translations().get(locale__language_code="bg")
    campaign = Campaign.objects.create(name="Bulgarian pack", page=bulgarian)
    campaign.lists.set([MailingListFactory()])
    sent(campaign, ledger.people["ngo"], at=OCTOBER)

    response = secretariat_client.get(DASHBOARD, {"event": event.pk})

    assert {row.campaign for row in response.context["board"].campaigns} == {
        "Bucharest pack",
        "Bulgarian pack",
    }


def test_event_and_campaign_filters_together_keep_what_both_select(
    ledger, secretariat_client, event
) -> None:
    response = secretariat_client.get(
        DASHBOARD, {"event": event.pk, "campaign": ledger.newsletter.pk}
    )

    assert response.status_code == 200
    assert response.context["board"].figures.direct_reach == 0
    assert response.context["board"].campaigns == []


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"start": "2026-02-30"}, "start"),
        ({"end": "yesterday"}, "end"),
        ({"start": "2026-12-01", "end": "2026-11-01"}, "end"),
        ({"campaign": "999999"}, "campaign"),
        ({"campaign": "x'; drop table"}, "campaign"),
        ({"event": "-1"}, "event"),
        ({"preset": "forever"}, "preset"),
    ],
)
def test_bad_filters_get_a_clear_message_not_a_500(
    ledger, secretariat_client, query, field
) -> None:
    for url in (DASHBOARD, export("csv"), export("xlsx")):
        response = secretariat_client.get(url, query)

        assert response.status_code == 400
        assert response.context["form"].errors[field]
        assert "Some filters are not valid" in response.content.decode()


def test_the_csv_download_honours_the_filters(ledger, secretariat_client) -> None:
    response = secretariat_client.get(export("csv"), {"campaign": ledger.pack.pk})

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="reach-')
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert ["Campaign", "Bucharest pack"] in rows
    assert ["Direct reach (MPs)", "4", "100"] in rows
    assert [DEFINITIONS["direct_reach"]] in rows
    assert not any(row and row[0] == "Newsletter 1" for row in rows)


def test_the_xlsx_download_has_the_figures_targets_definitions_and_rows(
    ledger, secretariat_client
) -> None:
    response = secretariat_client.get(
        export("xlsx"), {"start": "2026-10-01", "end": "2026-11-30"}
    )

    assert response["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml"
    )
    workbook = load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames == [
        "Reach",
        "Campaigns and languages",
        "Countries",
        "Parliaments",
        "Languages",
    ]
    summary = [list(row) for row in workbook["Reach"].iter_rows(values_only=True)]
    assert summary[0] == [
        "Relay reach report",
        "2026-10-01 to 2026-12-01 (end excluded)",
        None,
    ]
    assert ["Direct reach (MPs)", 8, 100] in summary
    assert ["Countries reached", 5, 15] in summary
    assert ["Focal-point parliaments", 2, 8] in summary
    assert ["Confirmed indirect reach (people)", 0, 1000] in summary
    for text in definitions().values():
        assert [text, None, None] in summary
    campaigns = list(workbook["Campaigns and languages"].iter_rows(values_only=True))
    assert ("Bucharest pack", "de", 2, 2, 2, 1, 0, 0, 0) in campaigns
    countries = list(workbook["Countries"].iter_rows(values_only=True))
    assert ("Germany", "DE", 3, 2, 5, 2, 1, 1, 1) in countries
    parliaments = list(workbook["Parliaments"].iter_rows(values_only=True))
    assert ("DE", "Bundestag", None, 3, 2, "yes") in parliaments


def test_spreadsheet_cells_never_become_formulas(ledger, secretariat_client) -> None:
    Campaign.objects.filter(pk=ledger.pack.pk).update(
        name='=HYPERLINK("http://evil.example","x")'
    )

    xlsx = secretariat_client.get(export("xlsx"))
    csv_text = secretariat_client.get(export("csv")).content.decode("utf-8-sig")

    sheet = load_workbook(io.BytesIO(xlsx.content))["Campaigns and languages"]
    names = {row[0].value: row[0].data_type for row in sheet.iter_rows(min_row=2)}
    assert names['\'=HYPERLINK("http://evil.example","x")'] == "s"
    assert "\n=HYPERLINK" not in csv_text
    assert "'=HYPERLINK" in csv_text

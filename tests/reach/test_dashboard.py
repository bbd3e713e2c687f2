"""The dashboard's tables: known answers, the same figures as the report, no per-row query."""

from __future__ import annotations

import datetime
import io
import re
from dataclasses import replace

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from newsletter.reach.dashboard import ReachScope, dashboard, mp_columns
from newsletter.reach.metrics import reach_figures
from tests.factories import ContactFactory

from .conftest import NOVEMBER, OCTOBER, event, sent

pytestmark = pytest.mark.django_db

NOVEMBER_ONLY = ReachScope(
    start=datetime.datetime(2026, 11, 1, tzinfo=datetime.UTC),
    end=datetime.datetime(2026, 12, 1, tzinfo=datetime.UTC),
)


def test_the_headline_figures_are_the_known_answers(ledger) -> None:
    figures = dashboard(ReachScope()).figures

    assert figures.direct_reach == 8
    assert figures.countries_reached == 5
    assert figures.engaged_direct_reach == 4
    assert figures.focal_point_parliaments == 2
    assert (figures.human_opens, figures.machine_opens) == (5, 3)
    assert (figures.human_clicks, figures.machine_clicks) == (2, 2)
    assert figures.machine_reasons == {
        "apple_mpp": 2,
        "scanner_agent": 1,
        "scanner_burst": 1,
        "image_proxy": 1,
    }


@pytest.mark.parametrize(
    ("scope", "args"),
    [
        (ReachScope(), []),
        (NOVEMBER_ONLY, ["--from", "2026-11-01", "--to", "2026-12-01"]),
    ],
)
def test_dashboard_figures_equal_the_metrics_and_the_report_command(
    ledger, scope, args
) -> None:
    board = dashboard(scope)
    figures = reach_figures(start=scope.start, end=scope.end)
    out = io.StringIO()
    call_command("reach_report", *args, stdout=out)
    report = out.getvalue()

    # Every figure is equal (the unsaved default targets compare by identity).
    assert replace(board.figures, target=figures.target) == figures
    targets = {item.key: item.value for item in board.targets}
    assert targets["direct_mps"] == figures.direct_reach
    assert targets["countries"] == figures.countries_reached
    assert targets["focal_point_parliaments"] == figures.focal_point_parliaments
    assert re.search(rf"^Direct reach \(MPs\) +{figures.direct_reach} ", report, re.M)
    assert re.search(rf"^Countries reached +{figures.countries_reached} ", report, re.M)
    # Each MP has one country: the country table adds up to the direct reach.
    assert sum(row.direct_reach for row in board.countries) == figures.direct_reach
    assert (
        sum(row.engaged_direct_reach for row in board.countries)
        == figures.engaged_direct_reach
    )
    assert len([r for r in board.countries if r.country and r.direct_reach]) == (
        figures.countries_reached
    )
    assert sum(row.engagement.human_opens for row in board.countries) == (
        figures.human_opens
    )
    assert sum(row.sent for row in board.languages) == sum(
        row.sent for row in figures.rows
    )


def test_november_alone(ledger) -> None:
    figures = dashboard(NOVEMBER_ONLY).figures

    assert (figures.direct_reach, figures.engaged_direct_reach) == (4, 2)
    assert figures.countries_reached == 2


def test_the_country_table(ledger) -> None:
    rows = {row.country: row for row in dashboard(ReachScope()).countries}

    assert set(rows) == {"DE", "FR", "IT", "RO", "PL", "ES"}
    de = rows["DE"]
    assert (de.direct_reach, de.engaged_direct_reach, de.delivered) == (3, 2, 5)
    assert (de.engagement.human_opens, de.engagement.machine_opens) == (2, 1)
    assert (de.engagement.human_clicks, de.engagement.machine_clicks) == (1, 1)
    # The bounced French MP reaches no one; their open is still an open of a sent mail.
    assert (rows["FR"].direct_reach, rows["FR"].delivered) == (1, 1)
    assert (rows["IT"].direct_reach, rows["IT"].engagement.human_opens) == (0, 1)
    assert (rows["RO"].direct_reach, rows["RO"].delivered) == (2, 4)
    assert rows["ES"].engagement.machine_clicks == 1


def test_the_parliament_table_merges_spellings_and_lists_focal_points(ledger) -> None:
    rows = {
        (row.country, row.parliament, row.chamber): row
        for row in dashboard(ReachScope()).parliaments
    }

    assert set(rows) == {
        ("DE", "Bundestag", ""),
        ("FR", "Assemblée nationale", ""),
        ("RO", "Parlamentul", "Senatul"),
        ("RO", "Parlamentul", "Camera Deputaților"),
        ("PL", "European Parliament", ""),
        ("ES", "", ""),
    }
    bundestag = rows[("DE", "Bundestag", "")]
    assert (bundestag.direct_reach, bundestag.engaged_direct_reach) == (3, 2)
    assert bundestag.has_focal_point
    # Senatul's focal point is staff, "Senatul " with a space: the same chamber.
    assert rows[("RO", "Parlamentul", "Senatul")].has_focal_point
    assert not rows[("RO", "Parlamentul", "Camera Deputaților")].has_focal_point
    assert sum(r.has_focal_point for r in rows.values()) == 2


def test_a_focal_point_parliament_with_no_mail_is_listed_with_zero_reach(
    ledger,
) -> None:
    ContactFactory(country="SI", parliament="Državni zbor", is_focal_point=True)

    rows = {(r.country, r.parliament): r for r in dashboard(ReachScope()).parliaments}

    assert rows[("SI", "Državni zbor")].direct_reach == 0
    assert rows[("SI", "Državni zbor")].has_focal_point


# The ledger has provider "forwarded" events but no forwards through Relay,
# shared-link visits or new devices: the indirect columns stay at zero.
NOTHING_PASSED_ON = {
    "forwards_sent": 0,
    "forward_recipients": 0,
    "recipients_opened": 0,
    "visitors": 0,
    "indirect_reach": 0,
    "estimated": 0,
}


def test_the_mp_table(ledger) -> None:
    board = dashboard(ReachScope())
    keys = [column.key for column in mp_columns()]
    rows = {
        row.contact_id: dict(zip(keys, row.cells, strict=True)) for row in board.mps
    }
    people = ledger.people

    assert people["ngo"].pk not in rows
    assert rows[people["de1"].pk] == {
        "received": 2,
        "opened": 2,
        "machine_opened": 1,
        **NOTHING_PASSED_ON,
    }
    assert rows[people["fr_bounced"].pk]["received"] == 0
    assert rows[people["ro2"].pk] == {
        "received": 2,
        "opened": 0,
        "machine_opened": 1,
        **NOTHING_PASSED_ON,
    }


def test_the_campaign_and_language_tables(ledger) -> None:
    board = dashboard(ReachScope())
    campaigns = {row.campaign: row for row in board.campaigns}
    languages = {row.language: row for row in board.languages}

    newsletter = campaigns["Newsletter 1"]
    assert (newsletter.sent, newsletter.delivered, newsletter.direct_reach) == (
        10,
        9,
        8,
    )
    assert newsletter.languages == 4
    pack = campaigns["Bucharest pack"]
    assert (pack.sent, pack.delivered, pack.direct_reach) == (4, 4, 4)
    assert (pack.engagement.human_opens, pack.engagement.machine_opens) == (1, 1)
    # An MP mailed twice in German counts once in German.
    assert (languages["de"].sent, languages["de"].direct_reach) == (5, 3)
    assert (languages["fr"].delivered, languages["fr"].direct_reach) == (1, 1)
    assert (languages["en"].sent, languages["en"].direct_reach) == (3, 2)


def test_over_time_by_month_and_by_week(ledger) -> None:
    months = dashboard(ReachScope()).timeline

    assert months.unit == "month"
    assert [
        (p.start, p.direct_reach, p.engaged_direct_reach) for p in months.points
    ] == [
        (datetime.date(2026, 10, 1), 8, 3),
        (datetime.date(2026, 11, 1), 4, 2),
    ]
    assert [(p.human_opens, p.machine_opens) for p in months.points] == [(4, 2), (1, 1)]

    weeks = dashboard(
        ReachScope(
            start=datetime.datetime(2026, 10, 1, tzinfo=datetime.UTC),
            end=datetime.datetime(2026, 12, 1, tzinfo=datetime.UTC),
        )
    ).timeline
    assert weeks.unit == "week"
    # Monday 5 October to Monday 9 November, the empty weeks between filled in.
    assert [p.start for p in weeks.points] == [
        datetime.date(2026, 10, 5) + datetime.timedelta(weeks=n) for n in range(6)
    ]
    assert [p.direct_reach for p in weeks.points] == [8, 0, 0, 0, 0, 4]


def test_a_campaign_filter_counts_only_that_campaign(ledger) -> None:
    board = dashboard(ReachScope(campaign_ids=frozenset({ledger.pack.pk})))

    assert board.figures.direct_reach == 4
    assert {row.campaign for row in board.campaigns} == {"Bucharest pack"}
    assert {row.country for row in board.countries} == {"DE", "RO"}
    empty = dashboard(ReachScope(campaign_ids=frozenset()))
    assert (empty.figures.direct_reach, empty.countries, empty.mps) == (0, [], [])


def test_the_targets_in_order_with_the_estimate_apart(ledger) -> None:
    board = dashboard(ReachScope())
    targets = {item.key: item for item in board.targets}

    assert list(targets) == [
        "direct_mps",
        "countries",
        "indirect",
        "focal_point_parliaments",
    ]
    assert targets["indirect"].value == board.figures.indirect_reach == 0
    assert targets["indirect"].estimate == board.figures.indirect_estimated == 0
    assert targets["indirect"].target == 1000
    assert targets["direct_mps"].percent == 8  # 8 of 100
    assert targets["countries"].percent == 33  # 5 of 15


def _queries(scope: ReachScope) -> int:
    with CaptureQueriesContext(connection) as captured:
        dashboard(scope)
    return len(captured)


def test_the_dashboard_makes_the_same_few_queries_however_many_rows(ledger) -> None:
    few = _queries(ReachScope())
    for n in range(30):
        person = ContactFactory(
            country=["AT", "BE", "CZ"][n % 3], parliament=f"Parliament {n % 7}"
        )
        delivery = sent(ledger.newsletter, person, at=OCTOBER, language="de")
        event(delivery, "opened")
        event(sent(ledger.pack, person, at=NOVEMBER, language="de"), "forwarded")

    many = _queries(ReachScope())

    assert dashboard(ReachScope()).figures.direct_reach == 38
    assert many == few
    # reach_figures makes 19 (3 for the campaign and language rows, 9 for
    # indirect reach); the tables 13: countries, parliaments (2), MPs (1, and
    # 6 for their forwards, visitors and estimates), languages, over time.
    assert few == 32


def test_reach_report_writes_the_xlsx_workbook(ledger, tmp_path) -> None:
    target = tmp_path / "reach.xlsx"
    out = io.StringIO()
    call_command(
        "reach_report", "--from", "2026-11-01", "--xlsx", str(target), stdout=out
    )

    summary = list(load_workbook(target)["Reach"].iter_rows(values_only=True))
    assert ("Direct reach (MPs)", 4, 100) in summary
    assert ("Focal-point parliaments", 2, 8) in summary
    assert out.getvalue() == f"Wrote {target}\n"

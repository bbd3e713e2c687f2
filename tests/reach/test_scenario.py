"""Issue 6's scripted scenario: every report shows exactly the expected figures."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from openpyxl import load_workbook

from newsletter.reach.exports import reach_csv
from newsletter.reach.metrics import definitions, indirect_by_mp, reach_figures

pytestmark = pytest.mark.django_db

LABELS = {
    "direct_reach": "Direct reach (MPs)",
    "engaged_direct_reach": "Engaged direct reach (MPs)",
    "countries_reached": "Countries reached",
    "focal_point_parliaments": "Focal-point parliaments",
    "human_opens": "Human opens",
    "machine_opens": "Machine opens",
    "human_clicks": "Human clicks",
    "machine_clicks": "Machine clicks",
    "indirect_reach": "Confirmed indirect reach (people)",
    "forward_readers": "  of which forward readers",
    "shared_visitors": "  of which shared-link and QR visitors",
    "link_visitors": "Shared-link visitors",
    "qr_visitors": "QR-code visitors",
    "forwards_sent": "Forwards sent through Relay",
    "forward_recipients": "Forwarded copies sent",
    "machine_visits": "Machine visits (not counted)",
    "indirect_estimated": "Estimated indirect (not in confirmed)",
}
TARGETS = {
    "direct_reach": 100,
    "countries_reached": 15,
    "focal_point_parliaments": 8,
    "indirect_reach": 1000,
}


def _period() -> tuple[str, str]:
    today = timezone.now().date()
    return (today - timedelta(days=1)).isoformat(), (
        today + timedelta(days=1)
    ).isoformat()


def test_the_reach_report_and_the_csv_show_exactly_the_expected_figures(
    scenario,
) -> None:
    start, end = _period()
    figures = reach_figures()
    assert {key: getattr(figures, key) for key in scenario.expected} == (
        scenario.expected
    )

    out = io.StringIO()
    call_command("reach_report", "--from", start, "--to", end, stdout=out)
    lines = out.getvalue().splitlines()
    for key, value in scenario.expected.items():
        target = TARGETS.get(key)
        line = next(line for line in lines if line.startswith(LABELS[key]))
        shown = line[len(LABELS[key]) :].split()
        assert int(shown[0]) == value, line
        if target:
            assert shown[1:3] == ["of", str(target)], line
    for text in definitions().values():
        assert text in lines

    out = io.StringIO()
    call_command("reach_report", "--from", start, "--to", end, "--csv", "-", stdout=out)
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    for key, value in scenario.expected.items():
        target = TARGETS.get(key)
        assert [LABELS[key], str(value), str(target) if target else ""] in rows
    for text in definitions().values():
        assert [text] in rows
    assert "estimate" in definitions()["indirect_estimated"].lower()


def test_the_period_filter_leaves_out_what_happened_outside_it(scenario) -> None:
    before = timezone.now() - timedelta(days=30)

    figures = reach_figures(start=before - timedelta(days=30), end=before)

    assert (
        figures.direct_reach,
        figures.indirect_reach,
        figures.indirect_estimated,
    ) == (
        0,
        0,
        0,
    )
    assert reach_csv(figures).count("Confirmed indirect reach (people),0,1000") == 1


def test_the_per_mp_breakdown_adds_up_to_the_confirmed_figures(scenario) -> None:
    rows = {row.contact_id: row for row in indirect_by_mp()}
    mps = scenario.mps

    assert len(rows) == 120
    forwarder = rows[mps[0].pk]
    assert (
        forwarder.packs_received,
        forwarder.packs_opened,
        forwarder.forwards_sent,
        forwarder.forward_recipients,
        forwarder.estimated,
    ) == (1, 1, 2, 10, 2)
    assert sum(row.recipients_opened for row in rows.values()) == 130
    assert sum(row.link_visitors for row in rows.values()) == 45
    assert sum(row.qr_visitors for row in rows.values()) == 10
    assert sum(row.indirect_reach for row in rows.values()) == 185
    assert sum(row.estimated for row in rows.values()) == 20
    assert sum(row.packs_opened for row in rows.values()) == 80
    # Sorted by confirmed indirect reach.
    reach = [row.indirect_reach for row in indirect_by_mp()]
    assert reach == sorted(reach, reverse=True)


def test_the_dashboard_and_the_xlsx_show_exactly_the_expected_figures(
    scenario, secretariat_client
) -> None:
    expected = scenario.expected
    start, end = _period()
    query = {"start": start, "end": end}

    response = secretariat_client.get("/admin/reach/", query)

    assert response.status_code == 200
    board = response.context["board"]
    assert {key: getattr(board.figures, key) for key in expected} == expected
    bars = {item.key: item for item in board.targets}
    assert (bars["direct_mps"].value, bars["direct_mps"].target) == (
        expected["direct_reach"],
        100,
    )
    assert bars["countries"].value == expected["countries_reached"]
    assert bars["focal_point_parliaments"].value == expected["focal_point_parliaments"]
    assert (bars["indirect"].value, bars["indirect"].estimate) == (
        expected["indirect_reach"],
        expected["indirect_estimated"],
    )
    page = response.content.decode()
    for key, figure in (
        ("direct_mps", "direct_reach"),
        ("countries", "countries_reached"),
        ("indirect", "indirect_reach"),
        ("focal_point_parliaments", "focal_point_parliaments"),
    ):
        assert re.search(
            rf'data-target="{key}".*?aria-valuenow="{expected[figure]}"', page, re.S
        ), key
    assert f"Estimated, not included: {expected['indirect_estimated']}" in page
    # The MP table adds up to the confirmed figure, the estimate kept apart.
    keys = [column.key for column in board.mp_columns]
    mps = [dict(zip(keys, row.cells, strict=True)) for row in board.mps]
    assert len(mps) == expected["direct_reach"]
    assert sum(row["recipients_opened"] for row in mps) == expected["forward_readers"]
    assert sum(row["estimated"] for row in mps) == expected["indirect_estimated"]

    download = secretariat_client.get("/admin/reach/export/xlsx/", query)

    assert download.status_code == 200
    summary = list(
        load_workbook(io.BytesIO(download.content))["Reach"].iter_rows(values_only=True)
    )
    for key, value in expected.items():
        assert (LABELS[key], value, TARGETS.get(key)) in summary, key
    for text in definitions().values():
        assert (text, None, None) in summary

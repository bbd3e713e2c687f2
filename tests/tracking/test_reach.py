"""Reach figures, exactly as DESIGN.md defines them, and their report and CSV."""

from __future__ import annotations

import csv
import datetime
import io

import pytest
from django.core.management import call_command

from newsletter.audience.gdpr import contact_erase
from newsletter.models import (
    Campaign,
    Contact,
    Delivery,
    DeliveryOutcome,
    ReachTarget,
    TrackingEvent,
)
from newsletter.reach.exports import reach_csv
from newsletter.reach.metrics import DEFINITIONS, definitions, reach_figures
from tests.factories import ContactFactory, MailingListFactory

from .conftest import SENT_AT

pytestmark = pytest.mark.django_db

START = datetime.datetime(2026, 11, 1, tzinfo=datetime.UTC)
END = datetime.datetime(2026, 12, 1, tzinfo=datetime.UTC)


@pytest.fixture
def campaign(home_page) -> Campaign:
    campaign = Campaign.objects.create(name="=Issue one", page=home_page)
    campaign.lists.add(MailingListFactory())
    return campaign


def sent(campaign, contact, *, language="en", at=SENT_AT, outcome=None) -> Delivery:
    delivery = Delivery.objects.create(
        campaign=campaign,
        contact=contact,
        language=language,
        country=contact.country,
        status=Delivery.Status.SENT,
        sent_at=at,
    )
    if outcome:
        DeliveryOutcome.objects.create(
            delivery=delivery,
            state=outcome,
            rank=DeliveryOutcome.RANKS[outcome],
        )
    return delivery


def event(delivery, kind, *, machine="") -> None:
    TrackingEvent.objects.create(
        delivery=delivery,
        kind=kind,
        source="provider",
        occurred_at=SENT_AT,
        is_machine=bool(machine),
        machine_reason=machine,
    )


@pytest.fixture
def ledger(campaign, home_page) -> dict[str, Contact]:
    """Four MPs and an NGO mailed in November, one MP mailed in October."""
    people = {
        "clicker": ContactFactory(country="DE"),
        "apple": ContactFactory(country="FR"),
        "bounced": ContactFactory(country="PL"),
        "retried": ContactFactory(country="FR"),
        "ngo": ContactFactory(country="IT", kind=Contact.Kind.NGO),
        "october": ContactFactory(country="ES"),
    }
    clicked = sent(campaign, people["clicker"], language="de")
    event(clicked, "opened", machine="apple_mpp")
    event(clicked, "clicked")
    apple = sent(campaign, people["apple"], language="fr", outcome="delivered")
    event(apple, "opened", machine="apple_mpp")
    sent(campaign, people["bounced"], language="pl", outcome="bounced")
    sent(campaign, people["retried"], language="fr", outcome="delivered")
    event(sent(campaign, people["ngo"], language="it"), "opened")
    sent(
        campaign,
        people["october"],
        at=datetime.datetime(2026, 10, 5, tzinfo=datetime.UTC),
    )
    return people


def test_direct_reach_counts_distinct_mps_with_a_delivered_mail_in_the_period(
    ledger,
) -> None:
    figures = reach_figures(start=START, end=END)

    # clicker, apple, retried: not the bounced MP, the NGO or October's MP.
    assert figures.direct_reach == 3
    assert figures.countries_reached == 2  # DE, FR
    # Only a human open or click engages: Apple's proxy does not.
    assert figures.engaged_direct_reach == 1


def test_a_second_mail_to_the_same_mp_does_not_count_twice(ledger, home_page) -> None:
    second = Campaign.objects.create(name="Issue two", page=home_page)
    second.lists.add(MailingListFactory())
    sent(second, ledger["clicker"], language="de")

    assert reach_figures(start=START, end=END).direct_reach == 3


def test_human_and_machine_opens_and_clicks_are_side_by_side(ledger) -> None:
    figures = reach_figures(start=START, end=END)

    assert (figures.human_opens, figures.machine_opens) == (1, 2)
    assert (figures.human_clicks, figures.machine_clicks) == (1, 0)
    assert figures.machine_reasons == {"apple_mpp": 2}


def test_figures_per_campaign_and_language(ledger) -> None:
    rows = {row.language: row for row in reach_figures(start=START, end=END).rows}

    assert set(rows) == {"de", "fr", "pl", "it"}
    assert (rows["fr"].sent, rows["fr"].delivered, rows["fr"].direct_reach) == (2, 2, 2)
    assert (rows["fr"].human_opens, rows["fr"].machine_opens) == (0, 1)
    assert (rows["pl"].delivered, rows["pl"].direct_reach) == (0, 0)
    assert (rows["de"].human_clicks, rows["de"].machine_opens) == (1, 1)


def test_focal_point_parliaments_count_distinct_chambers_with_an_active_focal_point(
    db,
) -> None:
    ContactFactory(
        is_focal_point=True, country="RO", parliament="Parlamentul", chamber="Senatul"
    )
    ContactFactory(
        is_focal_point=True,
        country="RO",
        parliament="Parlamentul",
        chamber="Camera Deputaților",
    )
    ContactFactory(
        is_focal_point=True, country="RO", parliament="Parlamentul", chamber="senatul "
    )
    ContactFactory(is_focal_point=True, country="DE", parliament="Bundestag")
    ContactFactory(
        is_focal_point=True,
        country="FR",
        parliament="Assemblée nationale",
        status=Contact.Status.UNSUBSCRIBED,
    )
    ContactFactory(country="PL", parliament="Sejm")

    assert reach_figures().focal_point_parliaments == 3


def test_erasing_a_reached_mp_keeps_the_figures_true(ledger) -> None:
    before = reach_figures(start=START, end=END)

    contact_erase(contact=ledger["clicker"])

    after = reach_figures(start=START, end=END)
    assert (
        after.direct_reach,
        after.countries_reached,
        after.engaged_direct_reach,
    ) == (
        before.direct_reach,
        before.countries_reached,
        before.engaged_direct_reach,
    )


def test_the_targets_default_to_the_networks_and_the_latest_row_wins(db) -> None:
    defaults = ReachTarget.current()
    assert (
        defaults.direct_mps,
        defaults.countries,
        defaults.indirect,
        defaults.focal_point_parliaments,
    ) == (100, 15, 1000, 8)

    ReachTarget.objects.create(direct_mps=120)

    assert ReachTarget.current().direct_mps == 120


def test_reach_report_prints_the_figures_against_the_targets(ledger) -> None:
    out = io.StringIO()

    call_command(
        "reach_report", "--from", "2026-11-01", "--to", "2026-12-01", stdout=out
    )

    text = out.getvalue()
    assert "Direct reach (MPs)" in text and "3 of 100 (3%)" in text
    assert "Countries reached" in text and "2 of 15" in text
    assert "Confirmed indirect reach (people)" in text and "0 of 1000 (0%)" in text
    assert DEFINITIONS["direct_reach"] in text


def test_the_csv_export_carries_the_same_figures_and_the_definitions(ledger) -> None:
    out = io.StringIO()

    call_command("reach_report", "--from", "2026-11-01", "--csv", "-", stdout=out)

    text = out.getvalue()
    assert text == reach_csv(reach_figures(start=START))
    rows = list(csv.reader(io.StringIO(text)))
    assert ["Direct reach (MPs)", "3", "100"] in rows
    assert ["Engaged direct reach (MPs)", "1", ""] in rows
    assert ["Human opens", "1", ""] in rows and ["Machine opens", "2", ""] in rows
    assert ["Confirmed indirect reach (people)", "0", "1000"] in rows
    for definition in definitions().values():
        assert [definition] in rows
    # A campaign name cannot become a spreadsheet formula.
    assert all(not row or row[0] != "=Issue one" for row in rows)
    assert any(row and row[0] == "'=Issue one" for row in rows)


def test_a_bad_date_is_a_clear_error(db) -> None:
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("reach_report", "--from", "November")

"""The reach dashboard's figures and tables, read from the ledger and the event log.

Every table is one aggregate query (the parliaments table two: reach and focal
points), whatever the number of rows: nothing here queries per row. The
definitions are DESIGN.md's, shared with ``metrics.reach_figures``, so the
dashboard, the exports and ``manage.py reach_report`` show the same numbers.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import Trunc
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from newsletter.models import Contact, Delivery, DeliveryOutcome, TrackingEvent
from newsletter.tracking import machine

from .metrics import (
    MEMBERS_OF_PARLIAMENT,
    NOT_DELIVERED,
    MpIndirectRow,
    ReachFigures,
    engagement,
    engagement_counts,
    indirect_by_mp,
    reach_figures,
    sent_deliveries,
)

# A delivery reached its reader unless its outcome is a bounce (no outcome yet
# counts as reached, as in ``metrics.delivered``).
DELIVERED = Q(outcome__isnull=True) | Q(
    outcome__state__in=[s for s in DeliveryOutcome.State if s not in NOT_DELIVERED]
)
MP = Q(contact__kind__in=MEMBERS_OF_PARLIAMENT)
HUMAN_ENGAGEMENT = Q(
    events__kind__in=(TrackingEvent.Kind.OPENED, TrackingEvent.Kind.CLICKED),
    events__is_machine=False,
)

# Periods longer than this are charted by month, shorter ones by week.
WEEKLY_UP_TO = timedelta(days=120)

MACHINE_REASONS: dict[str, Promise] = {
    machine.APPLE_MPP: _("Apple Mail Privacy Protection"),
    machine.IMAGE_PROXY: _("Image proxy prefetching the mail"),
    machine.SCANNER_AGENT: _("Known link scanner or HTTP client"),
    machine.SCANNER_BURST: _("Several links clicked within seconds of delivery"),
}


def _reach_counts() -> dict[str, Count]:
    """Return direct and engaged reach: distinct MPs with a delivered (and engaged) mail."""
    return {
        "direct_reach": Count("contact_id", distinct=True, filter=MP & DELIVERED),
        "engaged_direct_reach": Count(
            "contact_id", distinct=True, filter=MP & DELIVERED & HUMAN_ENGAGEMENT
        ),
    }


@dataclass(frozen=True)
class ReachScope:
    """What the dashboard counts: mail sent in [start, end), of some campaigns or all."""

    start: datetime | None = None
    end: datetime | None = None
    # None: every campaign; a set (maybe empty): only those.
    campaign_ids: frozenset[int] | None = None

    def deliveries(self) -> QuerySet[Delivery]:
        return sent_deliveries(
            start=self.start, end=self.end, campaign_ids=self.campaign_ids
        )

    def figures(self) -> ReachFigures:
        return reach_figures(
            start=self.start, end=self.end, campaign_ids=self.campaign_ids
        )


@dataclass(frozen=True)
class TargetProgress:
    """One of the network's targets and how far the figure has come."""

    key: str
    label: Promise
    value: int
    target: int
    # Shown beside the figure, never added to it (indirect reach estimates).
    estimate: int | None = None

    @property
    def percent(self) -> int:
        if not self.value or not self.target:
            return 0
        return min(100, self.value * 100 // self.target)


def indirect_progress(figures: ReachFigures) -> TargetProgress:
    """Return the bar of confirmed indirect reach against its target.

    Estimates (copies forwarded from a mail program) are shown beside the
    figure, never added to it.
    """
    return TargetProgress(
        key="indirect",
        label=_("People reached indirectly (confirmed)"),
        value=figures.indirect_reach,
        target=figures.target.indirect,
        estimate=figures.indirect_estimated,
    )


def target_progress(figures: ReachFigures) -> list[TargetProgress]:
    """Return the progress toward each target, in the order the network states them."""
    target = figures.target
    return [
        TargetProgress(
            key="direct_mps",
            label=_("MPs reached directly"),
            value=figures.direct_reach,
            target=target.direct_mps,
        ),
        TargetProgress(
            key="countries",
            label=_("Countries reached"),
            value=figures.countries_reached,
            target=target.countries,
        ),
        indirect_progress(figures),
        TargetProgress(
            key="focal_point_parliaments",
            label=_("Parliaments with a focal point"),
            value=figures.focal_point_parliaments,
            target=target.focal_point_parliaments,
        ),
    ]


@dataclass(frozen=True)
class EngagementCounts:
    """Distinct deliveries opened or clicked, by people and by machines."""

    human_opens: int
    machine_opens: int
    human_clicks: int
    machine_clicks: int


@dataclass(frozen=True)
class CountryRow:
    country: str  # ISO 3166-1 alpha-2, "" when unknown
    direct_reach: int
    engaged_direct_reach: int
    delivered: int
    engagement: EngagementCounts


def _counts(row: dict[str, int]) -> EngagementCounts:
    return EngagementCounts(
        human_opens=row["human_opens"],
        machine_opens=row["machine_opens"],
        human_clicks=row["human_clicks"],
        machine_clicks=row["machine_clicks"],
    )


def by_country(scope: ReachScope) -> list[CountryRow]:
    """Return reach and engagement per country of the reader (one query)."""
    rows = (
        scope.deliveries()
        .values("contact__country")
        .annotate(
            delivered=Count("pk", distinct=True, filter=DELIVERED),
            **_reach_counts(),
            **engagement_counts(),
        )
        .order_by("contact__country")
    )
    return [
        CountryRow(
            country=row["contact__country"],
            direct_reach=row["direct_reach"],
            engaged_direct_reach=row["engaged_direct_reach"],
            delivered=row["delivered"],
            engagement=_counts(row),
        )
        for row in rows
    ]


@dataclass(frozen=True)
class ParliamentRow:
    country: str
    parliament: str
    chamber: str
    direct_reach: int
    engaged_direct_reach: int
    has_focal_point: bool


def _parliament_key(country: str, parliament: str, chamber: str) -> tuple[str, ...]:
    # As ``metrics.focal_point_parliaments`` counts them.
    return (country, parliament.strip().casefold(), chamber.strip().casefold())


def by_parliament(scope: ReachScope) -> list[ParliamentRow]:
    """Return direct reach per parliament (country + chamber), with its focal point.

    Parliaments with a focal point but no MP reached in the scope are listed
    too, with zero reach; MPs with no parliament given share one row per
    country. Two queries: reach, and active focal points.
    """
    reach = (
        scope.deliveries()
        .filter(MP)
        .values("contact__country", "contact__parliament", "contact__chamber")
        .annotate(**_reach_counts())
        .order_by()
    )
    focal = set(
        Contact.objects.filter(is_focal_point=True, status=Contact.Status.ACTIVE)
        .exclude(country="")
        .values_list("country", "parliament", "chamber")
    )
    names: dict[tuple[str, ...], tuple[str, str, str]] = {}
    direct: dict[tuple[str, ...], int] = defaultdict(int)
    engaged: dict[tuple[str, ...], int] = defaultdict(int)
    for row in reach:
        spelling = (
            row["contact__country"],
            row["contact__parliament"].strip(),
            row["contact__chamber"].strip(),
        )
        key = _parliament_key(*spelling)
        names.setdefault(key, spelling)
        # Different spellings are different contacts: their counts add up.
        direct[key] += row["direct_reach"]
        engaged[key] += row["engaged_direct_reach"]
    focal_keys = set()
    for country, parliament, chamber in sorted(focal):
        key = _parliament_key(country, parliament, chamber)
        focal_keys.add(key)
        names.setdefault(key, (country, parliament.strip(), chamber.strip()))
    rows = [
        ParliamentRow(
            country=country,
            parliament=parliament,
            chamber=chamber,
            direct_reach=direct[key],
            engaged_direct_reach=engaged[key],
            has_focal_point=key in focal_keys,
        )
        for key, (country, parliament, chamber) in names.items()
    ]
    return sorted(rows, key=lambda row: (row.country, row.parliament, row.chamber))


@dataclass(frozen=True)
class MpColumn:
    """One figure column of the MP table."""

    key: str
    label: Promise


def mp_columns() -> list[MpColumn]:
    """Return the figure columns of the MP table, in order."""
    return [
        MpColumn("received", _("Mail received")),
        MpColumn("opened", _("Opened by the MP")),
        MpColumn("machine_opened", _("Opened by a machine")),
        MpColumn("forwards_sent", _("Forwards sent")),
        MpColumn("forward_recipients", _("Colleagues sent a copy")),
        MpColumn("recipients_opened", _("Colleagues who opened")),
        MpColumn("visitors", _("Visitors of shared links and QR codes")),
        MpColumn("indirect_reach", _("People reached indirectly (confirmed)")),
        MpColumn("estimated", _("Estimated (forwarded from a mail program)")),
    ]


@dataclass(frozen=True)
class MpRow:
    contact_id: int
    name: str
    country: str
    parliament: str
    chamber: str
    cells: list[int] = field(default_factory=list)  # in mp_columns() order


def by_mp(scope: ReachScope) -> list[MpRow]:
    """Return, per MP mailed or passing mail on in the scope, what they received and reached.

    Mail received and opened comes from one aggregate query; forwards, visitors
    and estimates from ``metrics.indirect_by_mp`` for the same scope.
    """
    rows = (
        scope.deliveries()
        .filter(MP)
        .values(
            "contact_id",
            "contact__first_name",
            "contact__last_name",
            "contact__country",
            "contact__parliament",
            "contact__chamber",
        )
        .annotate(
            received=Count("pk", distinct=True, filter=DELIVERED),
            opened=Count(
                "pk", distinct=True, filter=engagement("opened", machine=False)
            ),
            machine_opened=Count(
                "pk", distinct=True, filter=engagement("opened", machine=True)
            ),
        )
        .order_by("contact__country", "contact__last_name", "contact__first_name")
    )
    indirect = {
        row.contact_id: row
        for row in indirect_by_mp(
            start=scope.start, end=scope.end, campaign_ids=scope.campaign_ids
        )
    }
    columns = mp_columns()
    result = []
    for row in rows:
        figures = {**row, **_indirect_cells(indirect.pop(row["contact_id"], None))}
        result.append(
            MpRow(
                contact_id=row["contact_id"],
                name=" ".join(
                    part
                    for part in (row["contact__first_name"], row["contact__last_name"])
                    if part
                ),
                country=row["contact__country"],
                parliament=row["contact__parliament"],
                chamber=row["contact__chamber"],
                cells=[figures[column.key] for column in columns],
            )
        )
    # MPs whose mail of an earlier period was passed on in this one.
    for extra in indirect.values():
        figures = {
            "received": 0,
            "opened": 0,
            "machine_opened": 0,
            **_indirect_cells(extra),
        }
        result.append(
            MpRow(
                contact_id=extra.contact_id,
                name=extra.name,
                country=extra.country,
                parliament=extra.parliament,
                chamber="",
                cells=[figures[column.key] for column in columns],
            )
        )
    return result


def _indirect_cells(row: MpIndirectRow | None) -> dict[str, int]:
    if row is None:
        return dict.fromkeys(
            (
                "forwards_sent",
                "forward_recipients",
                "recipients_opened",
                "visitors",
                "indirect_reach",
                "estimated",
            ),
            0,
        )
    return {
        "forwards_sent": row.forwards_sent,
        "forward_recipients": row.forward_recipients,
        "recipients_opened": row.recipients_opened,
        "visitors": row.indirect_reach - row.recipients_opened,
        "indirect_reach": row.indirect_reach,
        "estimated": row.estimated,
    }


@dataclass(frozen=True)
class CampaignRow:
    campaign_id: int
    campaign: str
    languages: int
    sent: int
    delivered: int
    direct_reach: int
    engagement: EngagementCounts


def by_campaign(figures: ReachFigures) -> list[CampaignRow]:
    """Return the per-language rows of ``figures`` added up per campaign (no query).

    A contact has one delivery per campaign, in one language, so per-language
    counts of a campaign add up without counting anyone twice.
    """
    grouped: dict[int, list] = defaultdict(list)
    for row in figures.rows:
        grouped[row.campaign_id].append(row)
    return [
        CampaignRow(
            campaign_id=campaign_id,
            campaign=rows[0].campaign,
            languages=len(rows),
            sent=sum(r.sent for r in rows),
            delivered=sum(r.delivered for r in rows),
            direct_reach=sum(r.direct_reach for r in rows),
            engagement=EngagementCounts(
                human_opens=sum(r.human_opens for r in rows),
                machine_opens=sum(r.machine_opens for r in rows),
                human_clicks=sum(r.human_clicks for r in rows),
                machine_clicks=sum(r.machine_clicks for r in rows),
            ),
        )
        for campaign_id, rows in grouped.items()
    ]


@dataclass(frozen=True)
class LanguageRow:
    language: str
    sent: int
    delivered: int
    direct_reach: int
    engagement: EngagementCounts


def by_language(scope: ReachScope) -> list[LanguageRow]:
    """Return mail, reach and engagement per language sent, across campaigns (one query)."""
    rows = (
        scope.deliveries()
        .values("language")
        .annotate(
            sent=Count("pk", distinct=True),
            delivered=Count("pk", distinct=True, filter=DELIVERED),
            direct_reach=Count("contact_id", distinct=True, filter=MP & DELIVERED),
            **engagement_counts(),
        )
        .order_by("language")
    )
    return [
        LanguageRow(
            language=row["language"],
            sent=row["sent"],
            delivered=row["delivered"],
            direct_reach=row["direct_reach"],
            engagement=_counts(row),
        )
        for row in rows
    ]


@dataclass(frozen=True)
class TimePoint:
    start: date  # first day of the week or month
    direct_reach: int
    engaged_direct_reach: int
    human_opens: int
    machine_opens: int


@dataclass(frozen=True)
class TimeSeries:
    unit: str  # "week" or "month"
    points: list[TimePoint]


def _next(day: date, unit: str) -> date:
    if unit == "week":
        return day + timedelta(days=7)
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def over_time(scope: ReachScope, *, today: date | None = None) -> TimeSeries:
    """Return reach and opens per week or month in which the mail was sent (one query).

    Each bucket counts distinct MPs reached by the mail sent in it, so the
    buckets do not add up to the period's direct reach (an MP mailed every
    month counts in every month, and once in the period). Weeks for periods
    up to 120 days, months beyond; empty buckets are filled in with zeros.
    """
    today = today or datetime.now(tz=UTC).date()
    start = scope.start.date() if scope.start else None
    end = scope.end.date() if scope.end else today
    unit = "week" if start and end - start <= WEEKLY_UP_TO else "month"
    rows = (
        scope.deliveries()
        .annotate(bucket=Trunc("sent_at", unit, tzinfo=UTC))
        .values("bucket")
        .annotate(
            **_reach_counts(),
            human_opens=Count(
                "pk", distinct=True, filter=engagement("opened", machine=False)
            ),
            machine_opens=Count(
                "pk", distinct=True, filter=engagement("opened", machine=True)
            ),
        )
        .order_by("bucket")
    )
    found = {_as_date(row["bucket"]): row for row in rows}
    if not found:
        return TimeSeries(unit=unit, points=[])
    points = []
    day, last = min(found), max(found)
    while day <= last:
        row = found.get(day)
        points.append(
            TimePoint(
                start=day,
                direct_reach=row["direct_reach"] if row else 0,
                engaged_direct_reach=row["engaged_direct_reach"] if row else 0,
                human_opens=row["human_opens"] if row else 0,
                machine_opens=row["machine_opens"] if row else 0,
            )
        )
        day = _next(day, unit)
    return TimeSeries(unit=unit, points=points)


def _as_date(value: datetime | date) -> date:
    return value.date() if isinstance(value, datetime) else value


@dataclass(frozen=True)
class MachineReasonRow:
    reason: str
    label: Promise | str
    events: int


def machine_reasons(figures: ReachFigures) -> list[MachineReasonRow]:
    """Return the machine events of ``figures`` by how they were classified."""
    return [
        MachineReasonRow(
            reason=reason,
            label=MACHINE_REASONS.get(reason, reason or _("Unclassified")),
            events=count,
        )
        for reason, count in sorted(figures.machine_reasons.items())
    ]


@dataclass(frozen=True)
class Dashboard:
    """Everything the reach dashboard shows for one scope."""

    scope: ReachScope
    figures: ReachFigures
    targets: list[TargetProgress]
    countries: list[CountryRow]
    parliaments: list[ParliamentRow]
    mp_columns: list[MpColumn]
    mps: list[MpRow]
    campaigns: list[CampaignRow]
    languages: list[LanguageRow]
    timeline: TimeSeries
    machine_reasons: list[MachineReasonRow]


def dashboard(scope: ReachScope) -> Dashboard:
    """Return the dashboard of ``scope``: figures, targets and every table."""
    reach = scope.figures()
    return Dashboard(
        scope=scope,
        figures=reach,
        targets=target_progress(reach),
        countries=by_country(scope),
        parliaments=by_parliament(scope),
        mp_columns=mp_columns(),
        mps=by_mp(scope),
        campaigns=by_campaign(reach),
        languages=by_language(scope),
        timeline=over_time(scope),
        machine_reasons=machine_reasons(reach),
    )

"""Figures read from the ledger and the event log."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Q, QuerySet

from newsletter.models import (
    Contact,
    Delivery,
    DeliveryOutcome,
    ReachTarget,
    TrackingEvent,
)


@dataclass(frozen=True)
class CampaignSummary:
    deliveries: int
    by_status: dict[str, int]
    by_language: dict[str, int]
    opened: int

    @property
    def finished(self) -> bool:
        return not (
            self.by_status.get(Delivery.Status.PENDING, 0)
            or self.by_status.get(Delivery.Status.SENDING, 0)
        )


def campaign_summary(*, campaign_id: int) -> CampaignSummary:
    """Return delivery counts by status and language, and distinct human opens."""
    rows = Delivery.objects.filter(campaign_id=campaign_id)
    by_status = dict(rows.values_list("status").annotate(n=Count("pk")).order_by())
    by_language = dict(
        rows.filter(status=Delivery.Status.SENT)
        .values_list("language")
        .annotate(n=Count("pk"))
        .order_by()
    )
    opened = (
        TrackingEvent.objects.filter(
            delivery__campaign_id=campaign_id,
            kind=TrackingEvent.Kind.OPENED,
            is_machine=False,
        )
        .values("delivery_id")
        .distinct()
        .count()
    )
    return CampaignSummary(
        deliveries=sum(by_status.values()),
        by_status=by_status,
        by_language=by_language,
        opened=opened,
    )


# Reach, exactly as DESIGN.md ("Reach: definitions") defines it. Indirect reach
# (forwards through Relay, shared links, QR codes) is not measured yet: it is
# left out rather than shown as a figure.

# Members of parliament: national parliaments and the European Parliament.
MEMBERS_OF_PARLIAMENT = (Contact.Kind.MP, Contact.Kind.MEP)
# Outcomes in which the mail did not reach the reader.
NOT_DELIVERED = (DeliveryOutcome.State.BOUNCED, DeliveryOutcome.State.SOFT_BOUNCED)

DEFINITIONS = {
    "direct_reach": (
        "Direct reach: distinct MPs (national or European) with at least one "
        "delivered mail (sent, not bounced) in the period."
    ),
    "engaged_direct_reach": (
        "Engaged direct reach: those of them with a human (not machine) open or "
        "click of such a mail."
    ),
    "countries_reached": "Countries reached: distinct countries of direct-reach MPs.",
    "focal_point_parliaments": (
        "Focal-point parliaments: distinct parliaments (country + parliament and "
        "chamber) with an active focal-point contact, today."
    ),
    "opens_and_clicks": (
        "Opens and clicks: distinct deliveries with at least one human, or "
        "machine, open or click. Machine: Apple Mail Privacy Protection and "
        "prefetching image proxies, link scanners (known agents, or several "
        "links clicked within seconds of delivery). Only readers who consented "
        "to tracking are counted."
    ),
    "indirect_reach": (
        "Indirect reach (forwards and shared links): not measured yet, so not reported."
    ),
}


@dataclass(frozen=True)
class EngagementRow:
    """Mail and engagement of one campaign in one language."""

    campaign_id: int
    campaign: str
    language: str
    sent: int
    delivered: int
    direct_reach: int
    human_opens: int
    machine_opens: int
    human_clicks: int
    machine_clicks: int


@dataclass(frozen=True)
class ReachFigures:
    """The reach figures of a period, with the targets they are measured against."""

    start: datetime | None
    end: datetime | None
    direct_reach: int
    engaged_direct_reach: int
    countries_reached: int
    focal_point_parliaments: int
    human_opens: int
    machine_opens: int
    human_clicks: int
    machine_clicks: int
    machine_reasons: dict[str, int]
    target: ReachTarget
    rows: list[EngagementRow]


def sent_deliveries(
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    campaign_ids: Collection[int] | None = None,
) -> QuerySet[Delivery]:
    """Return deliveries handed to the provider in [start, end), of ``campaign_ids`` if given."""
    rows = Delivery.objects.filter(status=Delivery.Status.SENT)
    if campaign_ids is not None:
        rows = rows.filter(campaign_id__in=campaign_ids)
    if start is not None:
        rows = rows.filter(sent_at__gte=start)
    if end is not None:
        rows = rows.filter(sent_at__lt=end)
    return rows


def delivered(rows: QuerySet[Delivery]) -> QuerySet[Delivery]:
    """Return the deliveries among ``rows`` that reached the reader: sent, not bounced."""
    return rows.exclude(outcome__state__in=NOT_DELIVERED)


def _engagement(kind: str, *, machine: bool) -> Q:
    return Q(events__kind=kind, events__is_machine=machine)


def focal_point_parliaments() -> int:
    """Return the distinct parliaments (country + parliament and chamber) with an active focal point."""
    keys = {
        (country, parliament.strip().casefold(), chamber.strip().casefold())
        for country, parliament, chamber in Contact.objects.filter(
            is_focal_point=True, status=Contact.Status.ACTIVE
        )
        .exclude(country="")
        .values_list("country", "parliament", "chamber")
    }
    return len(keys)


def reach_figures(
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    campaign_ids: Collection[int] | None = None,
) -> ReachFigures:
    """Return the reach of mail sent in [start, end), per DESIGN.md's definitions.

    With ``campaign_ids``, only the mail of those campaigns counts (focal points,
    which do not depend on mail, stay as they are).
    """
    sent = sent_deliveries(start=start, end=end, campaign_ids=campaign_ids)
    reached = delivered(sent).filter(contact__kind__in=MEMBERS_OF_PARLIAMENT)
    engaged = reached.filter(
        events__kind__in=(TrackingEvent.Kind.OPENED, TrackingEvent.Kind.CLICKED),
        events__is_machine=False,
    )
    totals = sent.aggregate(
        human_opens=Count(
            "pk", distinct=True, filter=_engagement("opened", machine=False)
        ),
        machine_opens=Count(
            "pk", distinct=True, filter=_engagement("opened", machine=True)
        ),
        human_clicks=Count(
            "pk", distinct=True, filter=_engagement("clicked", machine=False)
        ),
        machine_clicks=Count(
            "pk", distinct=True, filter=_engagement("clicked", machine=True)
        ),
    )
    reasons = dict(
        TrackingEvent.objects.filter(delivery__in=sent, is_machine=True)
        .values_list("machine_reason")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return ReachFigures(
        start=start,
        end=end,
        direct_reach=reached.values("contact_id").distinct().count(),
        engaged_direct_reach=engaged.values("contact_id").distinct().count(),
        countries_reached=reached.exclude(contact__country="")
        .values("contact__country")
        .distinct()
        .count(),
        focal_point_parliaments=focal_point_parliaments(),
        machine_reasons=reasons,
        target=ReachTarget.current(),
        rows=engagement_by_campaign_language(
            start=start, end=end, campaign_ids=campaign_ids
        ),
        **totals,
    )


def engagement_by_campaign_language(
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    campaign_ids: Collection[int] | None = None,
) -> list[EngagementRow]:
    """Return, per campaign and language, what was delivered and opened or clicked by people and machines."""
    sent = sent_deliveries(start=start, end=end, campaign_ids=campaign_ids)
    reached = {
        (row["campaign_id"], row["language"]): row["n"]
        for row in delivered(sent)
        .filter(contact__kind__in=MEMBERS_OF_PARLIAMENT)
        .values("campaign_id", "language")
        .annotate(n=Count("contact_id", distinct=True))
        .order_by()
    }
    delivered_counts = {
        (row["campaign_id"], row["language"]): row["n"]
        for row in delivered(sent)
        .values("campaign_id", "language")
        .annotate(n=Count("pk"))
        .order_by()
    }
    rows = (
        sent.values("campaign_id", "campaign__name", "language")
        .annotate(
            sent=Count("pk", distinct=True),
            human_opens=Count(
                "pk", distinct=True, filter=_engagement("opened", machine=False)
            ),
            machine_opens=Count(
                "pk", distinct=True, filter=_engagement("opened", machine=True)
            ),
            human_clicks=Count(
                "pk", distinct=True, filter=_engagement("clicked", machine=False)
            ),
            machine_clicks=Count(
                "pk", distinct=True, filter=_engagement("clicked", machine=True)
            ),
        )
        .order_by("campaign_id", "language")
    )
    return [
        EngagementRow(
            campaign_id=row["campaign_id"],
            campaign=row["campaign__name"],
            language=row["language"],
            sent=row["sent"],
            delivered=delivered_counts.get((row["campaign_id"], row["language"]), 0),
            direct_reach=reached.get((row["campaign_id"], row["language"]), 0),
            human_opens=row["human_opens"],
            machine_opens=row["machine_opens"],
            human_clicks=row["human_clicks"],
            machine_clicks=row["machine_clicks"],
        )
        for row in rows
    ]

"""Figures read from the ledger and the event log."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db.models import Count, Q, QuerySet

from newsletter.models import (
    Contact,
    Delivery,
    DeliveryOutcome,
    ForwardRecipient,
    OpenDevice,
    ReachTarget,
    Referral,
    ReferralVisitor,
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


# Reach, exactly as DESIGN.md ("Reach: definitions") defines it; docs/reach.md
# says how indirect reach is measured.

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
        "Confirmed indirect reach: distinct people outside a campaign's own "
        "audience who read it through an MP in the period: colleagues whose "
        "copy forwarded through Relay was opened by a person (one per address), "
        "plus distinct human visitors of MPs' shared links and QR codes (one per "
        "browser, by a random first-party cookie). Machine opens and visits "
        "(privacy proxies, scanners, prefetches, bots) are not counted. A "
        "colleague who both opened a forward and visited a link counts twice."
    ),
    "indirect_estimated": (
        "Estimated indirect readers (not part of the confirmed figure): copies "
        "forwarded from a mail program, estimated as the human devices beyond "
        "an MP's first %(own)d that loaded the open pixel of the MP's own mail "
        "(device: a keyed hash of the user agent and network). MPs who do not "
        "consent to tracking add nothing."
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
    # Indirect reach (docs/reach.md). ``indirect_reach`` is the confirmed
    # figure: ``forward_readers`` + ``shared_visitors``; the estimate is
    # never added to it.
    indirect_reach: int = 0
    indirect_estimated: int = 0
    forwards_sent: int = 0
    forward_recipients: int = 0
    forward_readers: int = 0
    shared_visitors: int = 0
    link_visitors: int = 0
    qr_visitors: int = 0
    machine_visits: int = 0


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


def engagement(kind: str, *, machine: bool) -> Q:
    """Return the filter of deliveries with a ``kind`` event by a machine or a person."""
    return Q(events__kind=kind, events__is_machine=machine)


def engagement_counts() -> dict[str, Count]:
    """Return the aggregates of distinct deliveries opened or clicked, by people and machines."""
    return {
        f"{who}_{name}": Count(
            "pk", distinct=True, filter=engagement(kind, machine=who == "machine")
        )
        for name, kind in (("opens", "opened"), ("clicks", "clicked"))
        for who in ("human", "machine")
    }


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
        **engagement_counts(),
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
        **_indirect_totals(start=start, end=end, campaign_ids=campaign_ids),
    )


def definitions() -> dict[str, str]:
    """Return DEFINITIONS with the settings they name filled in."""
    return {
        key: text % {"own": settings.RELAY_ESTIMATE_OWN_DEVICES}
        if "%(own)d" in text
        else text
        for key, text in DEFINITIONS.items()
    }


def _within(
    rows: QuerySet[Any],
    field_name: str,
    start: datetime | None,
    end: datetime | None,
    *,
    delivery: str = "referral__delivery",
    campaign_ids: Collection[int] | None = None,
) -> QuerySet[Any]:
    """Return ``rows`` with ``field_name`` in [start, end), of ``campaign_ids`` if given.

    ``delivery`` is the path from a row to the MP's delivery it is attributed to.
    """
    if campaign_ids is not None:
        rows = rows.filter(**{f"{delivery}__campaign_id__in": campaign_ids})
    if start is not None:
        rows = rows.filter(**{f"{field_name}__gte": start})
    if end is not None:
        rows = rows.filter(**{f"{field_name}__lt": end})
    return rows


def _forward_copies(
    start: datetime | None,
    end: datetime | None,
    campaign_ids: Collection[int] | None = None,
) -> QuerySet[Any]:
    """Return the colleagues' copies handed over in [start, end)."""
    return _within(
        ForwardRecipient.objects.filter(status=ForwardRecipient.Status.SENT),
        "sent_at",
        start,
        end,
        campaign_ids=campaign_ids,
    )


def _forward_readers(
    start: datetime | None,
    end: datetime | None,
    campaign_ids: Collection[int] | None = None,
) -> QuerySet[Any]:
    """Return the copies first opened by a person in [start, end)."""
    return _within(
        ForwardRecipient.objects.filter(
            status=ForwardRecipient.Status.SENT, opened_at__isnull=False
        ),
        "opened_at",
        start,
        end,
        campaign_ids=campaign_ids,
    )


def _human_visitors(
    start: datetime | None,
    end: datetime | None,
    campaign_ids: Collection[int] | None = None,
) -> QuerySet[Any]:
    """Return the human visitors (with a key) first seen in [start, end)."""
    return _within(
        ReferralVisitor.objects.filter(is_machine=False).exclude(visitor_key=""),
        "first_seen",
        start,
        end,
        campaign_ids=campaign_ids,
    )


def _estimates(
    start: datetime | None,
    end: datetime | None,
    campaign_ids: Collection[int] | None = None,
) -> dict[int, int]:
    """Return, per MP contact id, the estimated readers of mail-client forwards in [start, end).

    Per delivery of an MP, the human devices that loaded its pixel are taken
    in the order first seen; the first ``RELAY_ESTIMATE_OWN_DEVICES`` are the
    MP's own, each further one first seen in the period counts one.
    """
    own = settings.RELAY_ESTIMATE_OWN_DEVICES
    seen: dict[tuple[int, int], list[datetime]] = defaultdict(list)
    devices = OpenDevice.objects.filter(
        is_machine=False, delivery__contact__kind__in=MEMBERS_OF_PARLIAMENT
    )
    if campaign_ids is not None:
        devices = devices.filter(delivery__campaign_id__in=campaign_ids)
    for delivery_id, contact_id, first_seen in devices.values_list(
        "delivery_id", "delivery__contact_id", "first_seen"
    ):
        seen[(delivery_id, contact_id)].append(first_seen)
    per_mp: dict[int, int] = defaultdict(int)
    for (_delivery_id, contact_id), stamps in seen.items():
        for stamp in sorted(stamps)[own:]:
            if (start is None or stamp >= start) and (end is None or stamp < end):
                per_mp[contact_id] += 1
    return dict(per_mp)


def _indirect_totals(
    *,
    start: datetime | None,
    end: datetime | None,
    campaign_ids: Collection[int] | None = None,
) -> dict[str, int]:
    copies = _forward_copies(start, end, campaign_ids)
    readers = (
        _forward_readers(start, end, campaign_ids)
        .values("address_key")
        .distinct()
        .count()
    )
    visitors = _human_visitors(start, end, campaign_ids)
    shared = visitors.values("visitor_key").distinct().count()
    return {
        "indirect_reach": readers + shared,
        "indirect_estimated": sum(_estimates(start, end, campaign_ids).values()),
        "forwards_sent": copies.values("forward_id").distinct().count(),
        "forward_recipients": copies.count(),
        "forward_readers": readers,
        "shared_visitors": shared,
        "link_visitors": visitors.filter(referral__kind=Referral.Kind.LINK)
        .values("visitor_key")
        .distinct()
        .count(),
        "qr_visitors": visitors.filter(referral__kind=Referral.Kind.QR)
        .values("visitor_key")
        .distinct()
        .count(),
        "machine_visits": sum(
            _within(
                ReferralVisitor.objects.filter(is_machine=True),
                "first_seen",
                start,
                end,
                campaign_ids=campaign_ids,
            ).values_list("visits", flat=True)
        ),
    }


@dataclass(frozen=True)
class MpIndirectRow:
    """What one MP received and how many people they reached through it."""

    contact_id: int
    name: str
    country: str
    parliament: str
    # Mails (issues and packs: newsletter knows pages only as mailable) delivered.
    packs_received: int
    packs_opened: int  # of those, opened or clicked by the MP (human)
    forwards_sent: int  # forward requests with at least one copy handed over
    forward_recipients: int  # colleagues' copies handed over
    recipients_opened: int  # distinct colleagues who opened (human)
    link_visitors: int  # distinct human visitors of the MP's shared links
    qr_visitors: int  # distinct human visitors of the MP's QR codes
    indirect_reach: int  # recipients_opened + distinct visitors (link or QR)
    estimated: int  # mail-client forwards, apart; never in indirect_reach


def indirect_by_mp(
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    campaign_ids: Collection[int] | None = None,
) -> list[MpIndirectRow]:
    """Return, per MP with mail or indirect reach in [start, end), their indirect reach.

    Sorted by confirmed indirect reach, then name. A visitor of two MPs'
    links counts for each of them, once in the total (``reach_figures``).
    """
    sent = sent_deliveries(start=start, end=end, campaign_ids=campaign_ids)
    received = dict(
        delivered(sent)
        .filter(contact__kind__in=MEMBERS_OF_PARLIAMENT)
        .values_list("contact_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    opened = dict(
        delivered(sent)
        .filter(
            contact__kind__in=MEMBERS_OF_PARLIAMENT,
            events__kind__in=(TrackingEvent.Kind.OPENED, TrackingEvent.Kind.CLICKED),
            events__is_machine=False,
        )
        .values_list("contact_id")
        .annotate(n=Count("pk", distinct=True))
        .order_by()
    )
    mp = "referral__delivery__contact_id"
    copies = _forward_copies(start, end, campaign_ids)
    forwards = dict(
        copies.values_list(mp).annotate(n=Count("forward_id", distinct=True)).order_by()
    )
    recipients = dict(copies.values_list(mp).annotate(n=Count("pk")).order_by())
    readers = dict(
        _forward_readers(start, end, campaign_ids)
        .values_list(mp)
        .annotate(n=Count("address_key", distinct=True))
        .order_by()
    )
    keys: dict[int, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for contact_id, kind, key in _human_visitors(start, end, campaign_ids).values_list(
        mp, "referral__kind", "visitor_key"
    ):
        keys[contact_id][kind].add(key)
    estimates = _estimates(start, end, campaign_ids)
    ids = set(received) | set(forwards) | set(keys) | set(estimates)
    contacts = {
        c.pk: c
        for c in Contact.objects.filter(pk__in=ids).only(
            "pk", "first_name", "last_name", "email", "country", "parliament"
        )
    }
    rows = []
    for contact_id in ids:
        contact = contacts.get(contact_id)
        if contact is None:
            continue
        link = keys[contact_id][Referral.Kind.LINK]
        qr = keys[contact_id][Referral.Kind.QR]
        rows.append(
            MpIndirectRow(
                contact_id=contact_id,
                name=contact.full_name or contact.email,
                country=contact.country,
                parliament=contact.parliament,
                packs_received=received.get(contact_id, 0),
                packs_opened=opened.get(contact_id, 0),
                forwards_sent=forwards.get(contact_id, 0),
                forward_recipients=recipients.get(contact_id, 0),
                recipients_opened=readers.get(contact_id, 0),
                link_visitors=len(link),
                qr_visitors=len(qr),
                indirect_reach=readers.get(contact_id, 0) + len(link | qr),
                estimated=estimates.get(contact_id, 0),
            )
        )
    rows.sort(key=lambda row: (-row.indirect_reach, row.name, row.contact_id))
    return rows


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
            **engagement_counts(),
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

"""After a crash: take back what stopped workers left, and resend only on request.

A worker that dies (SIGKILL, out of memory, a lost host) leaves its claimed
rows in ``sending``. Nothing sends them again blindly: the sweeper queues the
rows that were never handed to the provider (no ``attempted_at``) and marks the
others uncertain, for a person to look at and resend on request.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count, F, Max
from django.utils import timezone

from newsletter.models import Campaign, Delivery

from .dispatch import campaign_finish_if_done
from .prepare import deliveries_skip_if_cancelled

# A row that stopped its worker this often before being handed over is failed:
# it would otherwise kill worker after worker (a poison message).
MAX_SWEEPS = 3

UNCERTAIN_AFTER_CRASH = (
    "The worker stopped while handing this mail to the provider, which may "
    "have taken it. Resend only on request."
)
POISONED = "The worker stopped {count} times before handing this mail over."
RESENDABLE = (Delivery.Status.UNCERTAIN, Delivery.Status.FAILED)


@dataclass(frozen=True)
class Ledger:
    """Where every reader of a campaign stands."""

    audience: int
    pending: int
    sending: int
    sent: int
    failed: int
    skipped: int
    uncertain: int

    @property
    def finished(self) -> bool:
        """Return whether every reader is in a final state."""
        return self.pending == self.sending == 0


@dataclass(frozen=True)
class SweepResult:
    uncertain: int
    failed: int
    requeued: int


def deliveries_sweep(*, claim_timeout: float | None = None) -> SweepResult:
    """Resolve the claims of stopped workers and queue again what was never sent.

    A claim is stale when it made no progress for ``claim_timeout`` seconds
    (default ``RELAY_SEND_CLAIM_TIMEOUT``; every provider call refreshes it).
    Stale rows that were attempted become uncertain; the others go back to
    pending and are queued again. Pending rows of a sending campaign with no
    progress for as long (their task was lost with the broker) are queued
    again too. Idempotent and safe to run on several hosts: every change is a
    conditional UPDATE, and a queued batch claims its rows before sending.
    """
    timeout = (
        settings.RELAY_SEND_CLAIM_TIMEOUT if claim_timeout is None else claim_timeout
    )
    cutoff = timezone.now() - timedelta(seconds=timeout)
    stale = Delivery.objects.filter(
        status=Delivery.Status.SENDING, claimed_at__lt=cutoff
    )
    touched = set(stale.values_list("campaign_id", flat=True).distinct())

    uncertain = stale.filter(attempted_at__isnull=False).update(
        status=Delivery.Status.UNCERTAIN, reason=UNCERTAIN_AFTER_CRASH
    )
    failed = stale.filter(attempted_at__isnull=True, sweeps__gte=MAX_SWEEPS).update(
        status=Delivery.Status.FAILED, reason=POISONED.format(count=MAX_SWEEPS)
    )
    candidates = list(
        stale.filter(attempted_at__isnull=True).values_list("pk", "campaign_id")
    )
    by_campaign: dict[int, list[int]] = {}
    for pk, campaign_id in candidates:
        # One conditional UPDATE per row: only rows still stale are taken back.
        if Delivery.objects.filter(
            pk=pk,
            status=Delivery.Status.SENDING,
            attempted_at__isnull=True,
            claimed_at__lt=cutoff,
        ).update(status=Delivery.Status.PENDING, claim=None, sweeps=F("sweeps") + 1):
            by_campaign.setdefault(campaign_id, []).append(pk)

    requeued = 0
    for campaign_id, ids in by_campaign.items():
        requeued += _queue(campaign_id=campaign_id, delivery_ids=ids)

    # Pending rows whose task is gone (lost with the broker): a sending
    # campaign with open rows, none being sent, and no claim for a while.
    idle = (
        Campaign.objects.filter(status=Campaign.Status.SENDING, started_at__lt=cutoff)
        .exclude(pk__in=touched)
        .annotate(last_claim=Max("deliveries__claimed_at"))
        .values_list("pk", "last_claim")
    )
    for campaign_id, last_claim in idle:
        if last_claim is not None and last_claim >= cutoff:
            continue
        if Delivery.objects.filter(
            campaign_id=campaign_id, status=Delivery.Status.SENDING
        ).exists():
            continue
        requeued += _queue_pending(campaign_id=campaign_id)
        touched.add(campaign_id)

    for campaign_id in touched:
        campaign_finish_if_done(campaign_id=campaign_id)
    # Rows a batch released, or this sweep took back, after their campaign was
    # cancelled are skipped, so that its ledger adds up to its audience.
    for campaign_id in set(
        Delivery.objects.filter(
            status=Delivery.Status.PENDING, campaign__status=Campaign.Status.CANCELLED
        )
        .values_list("campaign_id", flat=True)
        .distinct()
    ):
        deliveries_skip_if_cancelled(campaign_id=campaign_id)
    return SweepResult(uncertain=uncertain, failed=failed, requeued=requeued)


def campaign_ledger(*, campaign_id: int) -> Ledger:
    """Return how many of the campaign's readers are in each state (one query)."""
    counts = dict(
        Delivery.objects.filter(campaign_id=campaign_id)
        .values_list("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    return Ledger(
        audience=sum(counts.values()),
        **{status: counts.get(status, 0) for status in Delivery.Status.values},
    )


@transaction.atomic(durable=True)
def campaign_resend(
    *, campaign_id: int, statuses: tuple[str, ...] = (Delivery.Status.UNCERTAIN,)
) -> int:
    """Send the campaign's uncertain (or failed) deliveries again; return how many.

    Only on request: a person decides that a possible second copy is better
    than none. Suppression and unsubscribes are checked again before hand-off.
    """
    if not set(statuses) <= set(RESENDABLE):
        raise ValueError(f"Only {', '.join(RESENDABLE)} deliveries can be resent.")
    reopened = Delivery.objects.filter(
        campaign_id=campaign_id, status__in=statuses
    ).update(
        status=Delivery.Status.PENDING,
        reason="",
        claim=None,
        claimed_at=None,
        attempted_at=None,
        sent_at=None,
        provider_message_id="",
    )
    if reopened:
        Campaign.objects.filter(pk=campaign_id, status=Campaign.Status.SENT).update(
            status=Campaign.Status.SENDING, finished_at=None
        )
        # The sending deadline counts from this reopening.
        Campaign.objects.filter(pk=campaign_id).update(resumed_at=timezone.now())
        transaction.on_commit(lambda: _queue_pending(campaign_id=campaign_id))
    return reopened


def _queue_pending(*, campaign_id: int) -> int:
    """Queue every pending delivery of a campaign in batches; return how many."""
    pending = list(
        Delivery.objects.filter(campaign_id=campaign_id, status=Delivery.Status.PENDING)
        .order_by("language", "country", "pk")
        .values_list("pk", flat=True)
    )
    return _queue(campaign_id=campaign_id, delivery_ids=pending)


def _queue(*, campaign_id: int, delivery_ids: list[int]) -> int:
    from newsletter.tasks import delivery_send_batch_task  # tasks import this module

    size = settings.RELAY_SEND_BATCH_SIZE
    for start in range(0, len(delivery_ids), size):
        delivery_send_batch_task.delay(campaign_id, delivery_ids[start : start + size])
    return len(delivery_ids)

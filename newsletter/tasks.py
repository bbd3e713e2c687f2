"""Celery tasks: thin adapters that take ids and call one service each.

Task names and arguments are a contract with messages already in the queue:
change them only with a new name.
"""

from __future__ import annotations

import random

from celery import Task, shared_task
from django.conf import settings

from newsletter.sending.campaigns import campaigns_start_due
from newsletter.sending.dispatch import (
    TransientSendError,
    campaign_retry_allowed,
    deliveries_give_up,
    delivery_send_batch,
)
from newsletter.sending.prepare import campaign_prepare
from newsletter.sending.recovery import deliveries_sweep
from newsletter.sending.transactional import confirmation_send

# Retry-After is honoured up to this many seconds; a longer wait would outlast
# Redis's visibility timeout, after which the broker delivers the task again.
RETRY_AFTER_MAX = 1800


@shared_task(name="newsletter.campaign_prepare", acks_late=True)
def campaign_prepare_task(campaign_id: int) -> int:
    """Prepare a campaign, then queue its pending deliveries in batches."""
    pending = campaign_prepare(campaign_id=campaign_id)
    size = settings.RELAY_SEND_BATCH_SIZE
    for start in range(0, len(pending), size):
        delivery_send_batch_task.delay_on_commit(
            campaign_id, pending[start : start + size]
        )
    return len(pending)


def retry_countdown(*, retries: int, retry_after: float | None) -> float:
    """Return the seconds to wait before retry number ``retries + 1``.

    The provider's Retry-After when it gave one; otherwise exponential backoff
    from ``RELAY_SEND_RETRY_BACKOFF`` up to ``RELAY_SEND_RETRY_BACKOFF_MAX``,
    with full jitter on the upper half so that batches do not retry in step.
    """
    if retry_after is not None:
        return min(float(retry_after), RETRY_AFTER_MAX)
    ceiling = min(
        settings.RELAY_SEND_RETRY_BACKOFF * 2**retries,
        settings.RELAY_SEND_RETRY_BACKOFF_MAX,
    )
    return ceiling / 2 + random.uniform(0, ceiling / 2)  # noqa: S311 - jitter, not a secret


@shared_task(
    name="newsletter.delivery_send_batch", bind=True, acks_late=True, max_retries=None
)
def delivery_send_batch_task(
    self: Task, campaign_id: int, delivery_ids: list[int]
) -> dict[str, int]:
    """Send one batch of a campaign; safe to run twice (claimed rows are skipped).

    Transient provider errors (429, 5xx, no connection, a timeout) retry the
    batch with backoff, or after Retry-After, until the campaign's deadline;
    after it, what is still unsent is marked failed.
    """
    try:
        result = delivery_send_batch(campaign_id=campaign_id, delivery_ids=delivery_ids)
    except TransientSendError as exc:
        countdown = retry_countdown(
            retries=self.request.retries, retry_after=exc.retry_after
        )
        if not campaign_retry_allowed(campaign_id=campaign_id, countdown=countdown):
            failed = deliveries_give_up(
                campaign_id=campaign_id,
                delivery_ids=delivery_ids,
                reason=f"The provider was unavailable until the sending deadline: {exc}",
            )
            return {"failed": failed}
        raise self.retry(exc=exc, countdown=countdown) from exc
    return dict(result.__dict__)


@shared_task(name="newsletter.deliveries_sweep")
def deliveries_sweep_task() -> dict[str, int]:
    """Resolve claims of stopped workers; queue again what was never handed over."""
    from newsletter.sending.forwards import forward_copies_sweep

    return dict(deliveries_sweep().__dict__) | forward_copies_sweep(
        claim_timeout=settings.RELAY_SEND_CLAIM_TIMEOUT
    )


@shared_task(name="newsletter.campaigns_start_due")
def campaigns_start_due_task() -> list[int]:
    """Start the scheduled campaigns that are due."""
    return campaigns_start_due()


@shared_task(
    name="newsletter.confirmation_send",
    acks_late=True,
    autoretry_for=(TransientSendError,),
    retry_backoff=5,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=6,
)
def confirmation_send_task(subscription_id: int, language: str, tracking: bool) -> bool:
    """Send the double opt-in mail of one pending subscription."""
    return confirmation_send(
        subscription_id=subscription_id, language=language, tracking=tracking
    )


@shared_task(name="newsletter.provider_event_process", acks_late=True)
def provider_event_process_task(provider_event_id: int) -> None:
    """Apply one stored provider webhook event; safe to run twice (the row is claimed)."""
    from newsletter.tracking.events import provider_event_process

    provider_event_process(provider_event_id=provider_event_id)


@shared_task(name="newsletter.provider_events_sweep")
def provider_events_sweep_task() -> int:
    """Queue again the provider events whose processing task was lost; return how many."""
    from datetime import timedelta

    from newsletter.tracking.events import provider_events_unprocessed

    pending = provider_events_unprocessed(older_than=timedelta(minutes=10))
    for provider_event_id in pending:
        provider_event_process_task.delay(provider_event_id)
    return len(pending)


@shared_task(name="newsletter.tracking_purge")
def tracking_purge_task() -> int:
    """Delete per-person tracking events past retention, keeping daily counts; return how many."""
    from newsletter.tracking.retention import tracking_purge

    return tracking_purge()


@shared_task(name="newsletter.tracking_hits_drain", ignore_result=True)
def tracking_hits_drain_task() -> int:
    """Write the buffered pixel opens and redirect clicks to the database; return how many.

    Safe to run often and at once: one drain runs at a time, the others
    return at once (newsletter.tracking.drain).
    """
    from newsletter.tracking.drain import hits_drain

    return hits_drain().written


@shared_task(name="newsletter.contacts_import_purge")
def contacts_import_purge_task() -> int:
    """Delete contact uploads older than a day that were never confirmed; return how many."""
    from newsletter.audience.imports import contacts_import_purge

    return contacts_import_purge()


@shared_task(
    name="newsletter.forward_send",
    acks_late=True,
    autoretry_for=(TransientSendError,),
    retry_backoff=5,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=6,
)
def forward_send_task(forward_id: int) -> dict[str, int]:
    """Send the colleagues' copies of one forward; safe to run twice (rows are claimed)."""
    from newsletter.sending.forwards import forward_send

    return forward_send(forward_id=forward_id)

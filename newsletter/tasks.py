"""Celery tasks: thin adapters that take ids and call one service each.

Task names and arguments are a contract with messages already in the queue:
change them only with a new name.
"""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from newsletter.sending.dispatch import TransientSendError, delivery_send_batch
from newsletter.sending.prepare import campaign_prepare
from newsletter.sending.transactional import confirmation_send


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


@shared_task(
    name="newsletter.delivery_send_batch",
    acks_late=True,
    autoretry_for=(TransientSendError,),
    retry_backoff=5,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=12,
)
def delivery_send_batch_task(
    campaign_id: int, delivery_ids: list[int]
) -> dict[str, int]:
    """Send one batch of a campaign; safe to run twice (claimed rows are skipped)."""
    result = delivery_send_batch(campaign_id=campaign_id, delivery_ids=delivery_ids)
    return dict(result.__dict__)


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

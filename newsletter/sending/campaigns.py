"""Creating, approving, scheduling, starting, pausing, resuming and cancelling campaigns.

Every change of a campaign's status is a conditional UPDATE from the states it
may leave, so two people (or a person and the beat task) acting at once change
it once, and the loser is told.

    draft → scheduled → preparing → sending → sent
                 (paused ↔ preparing/sending; cancelled from any open state)
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from wagtail.models import Page

from newsletter.audience.selection import campaign_audience
from newsletter.models import Campaign, Delivery, MailingList, Segment

from .forecast import campaign_waiting_for
from .mailable import Mailable
from .prepare import deliveries_skip_if_cancelled

OPEN = (
    Campaign.Status.DRAFT,
    Campaign.Status.SCHEDULED,
    Campaign.Status.PREPARING,
    Campaign.Status.SENDING,
    Campaign.Status.PAUSED,
)
NOT_STARTED = (Campaign.Status.DRAFT, Campaign.Status.SCHEDULED)


class CampaignActionError(ValueError):
    """The action is not possible now; the message says why, for the user."""


@transaction.atomic(durable=True)
def campaign_create(
    *,
    page: Page,
    lists: Iterable[MailingList] = (),
    segments: Iterable[Segment] = (),
    name: str = "",
    language_policy: str = Campaign.LanguagePolicy.SOURCE,
    created_by: Any = None,
) -> Campaign:
    """Create a draft campaign that sends ``page`` to lists and segments.

    The page's locale is the source language.
    """
    page = page.specific
    if not isinstance(page, Mailable):
        raise ValueError(f"{type(page).__name__} pages cannot be sent as mail.")
    lists, segments = list(lists), list(segments)
    if not lists and not segments:
        raise ValueError("A campaign needs at least one list or segment.")
    campaign = Campaign.objects.create(
        page=page,
        name=name or page.title,
        language_policy=language_policy,
        created_by=created_by,
    )
    campaign.lists.set(lists)
    campaign.segments.set(segments)
    return campaign


def approval_required() -> bool:
    """Return whether campaigns need a second user's approval (RELAY_CAMPAIGN_APPROVAL)."""
    return bool(settings.RELAY_CAMPAIGN_APPROVAL)


def campaign_approval_refusal(*, campaign: Campaign, user: Any) -> str:
    """Return why ``user`` may not approve ``campaign`` now, or "" if they may."""
    if campaign.status not in NOT_STARTED:
        return _("Only a campaign that has not started can be approved.")
    if campaign.approved_by_id is not None:
        return _("The campaign is already approved.")
    if campaign.created_by_id is not None and campaign.created_by_id == user.pk:
        return _("The person who created a campaign cannot approve it.")
    if not user.has_perm("newsletter.approve_campaign"):
        return _("You may not approve campaigns.")
    return ""


@transaction.atomic(durable=True)
def campaign_approve(*, campaign: Campaign, user: Any) -> Campaign:
    """Record ``user``'s approval of ``campaign``; never its creator's."""
    refusal = campaign_approval_refusal(campaign=campaign, user=user)
    if refusal:
        raise CampaignActionError(refusal)
    now = timezone.now()
    approved = (
        Campaign.objects.filter(
            pk=campaign.pk, status__in=NOT_STARTED, approved_by__isnull=True
        )
        .exclude(created_by=user)
        .update(approved_by=user, approved_at=now)
    )
    if not approved:
        raise CampaignActionError(_("The campaign changed meanwhile; reload it."))
    campaign.approved_by, campaign.approved_at = user, now
    return campaign


def _check_ready(campaign: Campaign) -> None:
    """Refuse to send or schedule an unapproved campaign or an invalid audience."""
    if approval_required() and campaign.approved_by_id is None:
        raise CampaignActionError(
            _("A second person must approve the campaign before it is sent.")
        )
    try:
        campaign_audience(campaign)  # validates the segments' rules
    except Exception as exc:  # a ValidationError of a segment's stale rules
        raise CampaignActionError(
            _("A segment of the audience is no longer valid: %(error)s")
            % {"error": exc}
        ) from exc


@transaction.atomic(durable=True)
def campaign_start(*, campaign: Campaign) -> str:
    """Start ``campaign`` now (a held one waits for its translations); return its status.

    Preparation is queued once committed, and only by the call that moved the
    campaign on, so starting it twice prepares it once.
    """
    from newsletter.tasks import campaign_prepare_task  # tasks import this module

    _check_ready(campaign)
    if campaign_waiting_for(campaign):
        # Held: the beat task starts it once the translations are complete.
        held = Campaign.objects.filter(
            pk=campaign.pk, status=Campaign.Status.DRAFT
        ).update(status=Campaign.Status.SCHEDULED, scheduled_at=timezone.now())
        if held:
            campaign.status = Campaign.Status.SCHEDULED
            return Campaign.Status.SCHEDULED
    started = Campaign.objects.filter(pk=campaign.pk, status__in=NOT_STARTED).update(
        status=Campaign.Status.PREPARING
    )
    if not started:
        # Started already (a second click, a redelivered call): nothing to do.
        status = Campaign.objects.values_list("status", flat=True).get(pk=campaign.pk)
        if status in (Campaign.Status.SENT, Campaign.Status.CANCELLED):
            raise CampaignActionError(_("The campaign is already finished."))
        campaign.status = status
        return status
    campaign.status = Campaign.Status.PREPARING
    campaign_prepare_task.delay_on_commit(campaign.pk)
    return Campaign.Status.PREPARING


@transaction.atomic(durable=True)
def campaign_schedule(*, campaign: Campaign, at: datetime) -> Campaign:
    """Have ``campaign`` started at ``at`` by the beat task; return it.

    No countdown task is queued: a beat task started every minute picks the
    due campaigns from the database, so a schedule survives broker restarts and
    can be changed until it is due.
    """
    _check_ready(campaign)
    scheduled = Campaign.objects.filter(pk=campaign.pk, status__in=NOT_STARTED).update(
        status=Campaign.Status.SCHEDULED, scheduled_at=at
    )
    if not scheduled:
        raise CampaignActionError(
            _("Only a campaign that has not started can be scheduled.")
        )
    campaign.status, campaign.scheduled_at = Campaign.Status.SCHEDULED, at
    return campaign


@transaction.atomic(durable=True)
def campaign_unschedule(*, campaign: Campaign) -> Campaign:
    """Take a scheduled (or held) campaign back to draft."""
    if not Campaign.objects.filter(
        pk=campaign.pk, status=Campaign.Status.SCHEDULED
    ).update(status=Campaign.Status.DRAFT, scheduled_at=None):
        raise CampaignActionError(_("The campaign is not scheduled."))
    campaign.status, campaign.scheduled_at = Campaign.Status.DRAFT, None
    return campaign


def campaigns_start_due(*, now: datetime | None = None) -> list[int]:
    """Start every scheduled campaign whose time has come; return their ids.

    A held campaign starts only once its translations are complete. Each is
    taken with a conditional UPDATE (scheduled → preparing), so two beat runs,
    or two beat schedulers by mistake, start a campaign once.
    """
    from newsletter.tasks import campaign_prepare_task  # tasks import this module

    due = Campaign.objects.filter(
        status=Campaign.Status.SCHEDULED,
        scheduled_at__isnull=False,
        scheduled_at__lte=now or timezone.now(),
    ).select_related("page__locale")
    started = []
    for campaign in list(due):
        if campaign_waiting_for(campaign):
            continue
        if Campaign.objects.filter(
            pk=campaign.pk, status=Campaign.Status.SCHEDULED
        ).update(status=Campaign.Status.PREPARING):
            campaign_prepare_task.delay(campaign.pk)
            started.append(campaign.pk)
    return started


@transaction.atomic(durable=True)
def campaign_pause(*, campaign: Campaign) -> Campaign:
    """Pause a preparing or sending campaign.

    Batches already handing mail over finish their rows; every other batch
    finds the campaign paused and claims nothing, so its rows stay pending.
    """
    if not Campaign.objects.filter(
        pk=campaign.pk,
        status__in=[Campaign.Status.PREPARING, Campaign.Status.SENDING],
    ).update(status=Campaign.Status.PAUSED):
        raise CampaignActionError(_("Only a campaign that is sending can be paused."))
    campaign.status = Campaign.Status.PAUSED
    return campaign


@transaction.atomic(durable=True)
def campaign_resume(*, campaign: Campaign) -> Campaign:
    """Resume a paused campaign: queue its pending rows again, in batches.

    Only pending rows are queued and each provider call claims its rows right
    before it is made, so nothing already handed over is sent again. A campaign
    paused before its preparation finished is prepared again (idempotent). The
    sending deadline counts from now.
    """
    from newsletter.tasks import campaign_prepare_task  # tasks import this module

    from .dispatch import campaign_finish_if_done
    from .recovery import _queue_pending

    current = Campaign.objects.filter(pk=campaign.pk).values_list(
        "started_at", flat=True
    )
    prepared = current.first() is not None
    status = Campaign.Status.SENDING if prepared else Campaign.Status.PREPARING
    if not Campaign.objects.filter(
        pk=campaign.pk, status=Campaign.Status.PAUSED
    ).update(status=status, resumed_at=timezone.now()):
        raise CampaignActionError(_("Only a paused campaign can be resumed."))
    campaign.status = status
    campaign_id = campaign.pk
    if prepared:

        def queue() -> None:
            _queue_pending(campaign_id=campaign_id)
            campaign_finish_if_done(campaign_id=campaign_id)

        transaction.on_commit(queue)
    else:
        campaign_prepare_task.delay_on_commit(campaign_id)
    return campaign


@transaction.atomic(durable=True)
def campaign_cancel(*, campaign: Campaign) -> int:
    """Cancel an open campaign; mark its pending rows skipped; return how many.

    Rows being handed over finish as they are. sent + failed + skipped +
    uncertain then equals the audience; rows released later (a retried batch,
    the sweeper) are skipped by ``deliveries_skip_if_cancelled``.
    """
    if not Campaign.objects.filter(pk=campaign.pk, status__in=OPEN).update(
        status=Campaign.Status.CANCELLED, finished_at=timezone.now()
    ):
        raise CampaignActionError(_("The campaign is already finished."))
    campaign.status = Campaign.Status.CANCELLED
    return deliveries_skip_if_cancelled(campaign_id=campaign.pk)


def campaign_send_again(*, campaign: Campaign) -> int:
    """Send the failed and uncertain rows of a campaign again, on request; return how many."""
    from .recovery import campaign_resend

    if campaign.status not in (
        Campaign.Status.SENDING,
        Campaign.Status.PAUSED,
        Campaign.Status.SENT,
    ):
        raise CampaignActionError(
            _("Only a campaign that was sent can be sent again to failed readers.")
        )
    return campaign_resend(
        campaign_id=campaign.pk,
        statuses=(Delivery.Status.FAILED, Delivery.Status.UNCERTAIN),
    )

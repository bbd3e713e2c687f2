"""Relay's tables, one module per stage of the flow (see DESIGN.md)."""

from .audience import (
    ConsentRecord,
    Contact,
    MailingList,
    Segment,
    Subscription,
    Suppression,
    Topic,
    address_hash,
)
from .campaigns import Campaign, Delivery, RateBucket
from .reach import (
    Forward,
    ForwardOptOut,
    ForwardRecipient,
    OpenDevice,
    ReachTarget,
    Referral,
    ReferralVisitor,
)
from .tracking import (
    DeliveryOutcome,
    Link,
    ProviderEvent,
    TrackingDaily,
    TrackingEvent,
)

__all__ = [
    "Campaign",
    "ConsentRecord",
    "Segment",
    "Suppression",
    "Topic",
    "address_hash",
    "Contact",
    "Delivery",
    "DeliveryOutcome",
    "Link",
    "MailingList",
    "ProviderEvent",
    "RateBucket",
    "ReachTarget",
    "Referral",
    "ReferralVisitor",
    "Forward",
    "ForwardOptOut",
    "ForwardRecipient",
    "OpenDevice",
    "Subscription",
    "TrackingDaily",
    "TrackingEvent",
]

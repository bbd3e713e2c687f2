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
from .tracking import TrackingEvent

__all__ = [
    "Campaign",
    "ConsentRecord",
    "Segment",
    "Suppression",
    "Topic",
    "address_hash",
    "Contact",
    "Delivery",
    "MailingList",
    "RateBucket",
    "Subscription",
    "TrackingEvent",
]

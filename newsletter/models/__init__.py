"""Relay's tables, one module per stage of the flow (see DESIGN.md)."""

from .audience import Contact, MailingList, Subscription
from .campaigns import Campaign, Delivery
from .tracking import TrackingEvent

__all__ = [
    "Campaign",
    "Contact",
    "Delivery",
    "MailingList",
    "Subscription",
    "TrackingEvent",
]

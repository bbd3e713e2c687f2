"""Telling machines' opens and clicks from people's: pure functions, no database.

Machine events are kept, flagged and shown beside the human figures, never
dropped, and each carries the reason it was flagged (DESIGN.md, "What the
competition gets wrong"). The rules:

- Apple Mail Privacy Protection fetches every image through Apple's proxies
  when a message arrives, opened or not, with the bare agent ``Mozilla/5.0``
  (https://support.apple.com/102580). Providers that recognise it say so in
  their raw event: Brevo's ``proxy_open`` and ``unique_proxy_open`` events,
  SendGrid's ``sg_machine_open``. Those are ``apple_mpp``.
- Image proxies that prefetch (Yahoo's) are ``image_proxy``. Gmail's proxy is
  not: it fetches when the reader opens the message.
- Link scanners (Microsoft Defender Safe Links, Proofpoint, Mimecast,
  Barracuda, ...) and generic HTTP clients are ``scanner_agent``.
- Clicks on several different links within seconds of delivery are a scanner
  following every link (``scanner_burst``): no person reads that fast.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

APPLE_MPP = "apple_mpp"
IMAGE_PROXY = "image_proxy"
SCANNER_AGENT = "scanner_agent"
SCANNER_BURST = "scanner_burst"

# A burst: at least this many distinct links clicked within SCANNER_BURST_SECONDS
# of delivery (or every link of the message, when it has fewer).
SCANNER_BURST_SECONDS = 30
SCANNER_BURST_LINKS = 2

# Apple's proxy announces itself with this agent and nothing more.
_APPLE_PROXY_AGENTS = frozenset({"mozilla/5.0"})
_PREFETCH_PROXIES = re.compile(r"yahoomailproxy|yahoo! slurp", re.IGNORECASE)
_SCANNER_AGENTS = re.compile(
    r"safelinks|microsoft defender|defender for office|bingpreview|proofpoint"
    r"|mimecast|barracuda|symantec|messagelabs|trend ?micro|forcepoint|sophos"
    r"|fortiguard|cisco|ironport|checkpoint|zscaler|paloalto|urldefense"
    r"|python-requests|python-urllib|aiohttp|go-http-client|okhttp|curl/|wget"
    r"|libwww|java/|headlesschrome|phantomjs|bot\b|crawler|spider|scanner",
    re.IGNORECASE,
)
# Raw-event markers providers use for proxied (machine) opens.
_PROXY_OPEN_EVENTS = frozenset({"proxy_open", "unique_proxy_open"})


@dataclass(frozen=True)
class Verdict:
    """Whether an event was a machine's, and why (empty when it was a person's)."""

    is_machine: bool
    reason: str = ""


HUMAN = Verdict(is_machine=False)


# Remembered per agent string: a few hundred agents make nearly every hit, and
# the scanners' pattern was a tenth of the pixel's own time.
@lru_cache(maxsize=4096)
def agent_verdict(user_agent: str | None) -> Verdict:
    """Return the verdict the user agent alone allows."""
    agent = (user_agent or "").strip()
    if not agent:
        return HUMAN
    if agent.lower() in _APPLE_PROXY_AGENTS:
        return Verdict(True, APPLE_MPP)
    if _PREFETCH_PROXIES.search(agent):
        return Verdict(True, IMAGE_PROXY)
    if _SCANNER_AGENTS.search(agent):
        return Verdict(True, SCANNER_AGENT)
    return HUMAN


def provider_open_verdict(esp_event: Mapping[str, Any] | Any) -> Verdict:
    """Return the verdict a provider's raw open event states, if it states one."""
    if not isinstance(esp_event, Mapping):
        return HUMAN
    if esp_event.get("event") in _PROXY_OPEN_EVENTS:  # Brevo
        return Verdict(True, APPLE_MPP)
    if esp_event.get("sg_machine_open") in (True, "true"):  # SendGrid
        return Verdict(True, APPLE_MPP)
    return HUMAN


def open_verdict(
    *, user_agent: str | None, esp_event: Mapping[str, Any] | None = None
) -> Verdict:
    """Return whether an open was a machine's: the provider's word first, then the agent."""
    verdict = provider_open_verdict(esp_event or {})
    return verdict if verdict.is_machine else agent_verdict(user_agent)


def click_burst(
    *,
    seconds_after_delivery: Sequence[tuple[float, str]],
    links_in_message: int | None = None,
) -> bool:
    """Return whether clicks, as (seconds after delivery, URL) pairs, are a scanner's burst.

    A burst is several distinct links (every link, for a message with fewer)
    clicked within ``SCANNER_BURST_SECONDS`` of delivery.
    """
    early = {
        url
        for seconds, url in seconds_after_delivery
        if 0 <= seconds <= SCANNER_BURST_SECONDS
    }
    return early_links_burst(len(early), links_in_message=links_in_message)


def early_links_burst(early_links: int, *, links_in_message: int | None = None) -> bool:
    """Return whether ``early_links`` distinct links clicked early are a burst.

    Early: within ``SCANNER_BURST_SECONDS`` of delivery.
    """
    needed = SCANNER_BURST_LINKS
    if links_in_message is not None:
        needed = max(1, min(needed, links_in_message))
        if links_in_message == 1:
            return False  # one link clicked at once is as likely a keen reader
    return early_links >= needed


def click_verdict(
    *,
    user_agent: str | None,
    seconds_after_delivery: Sequence[tuple[float, str]] = (),
    links_in_message: int | None = None,
) -> Verdict:
    """Return whether a click was a machine's: scanner agents, then scanner bursts."""
    early = {
        url
        for seconds, url in seconds_after_delivery
        if 0 <= seconds <= SCANNER_BURST_SECONDS
    }
    return early_click_verdict(
        user_agent=user_agent, early_links=len(early), links_in_message=links_in_message
    )


def early_click_verdict(
    *, user_agent: str | None, early_links: int, links_in_message: int | None = None
) -> Verdict:
    """Return ``click_verdict``'s answer from the number of distinct links clicked early.

    ``early_links``: the distinct links clicked within ``SCANNER_BURST_SECONDS``
    of delivery, this click's included (the click redirect counts them in the
    database rather than reading every click).
    """
    verdict = agent_verdict(user_agent)
    if verdict.reason in (SCANNER_AGENT, IMAGE_PROXY):
        return Verdict(True, SCANNER_AGENT)
    if early_links_burst(early_links, links_in_message=links_in_message):
        return Verdict(True, SCANNER_BURST)
    return HUMAN

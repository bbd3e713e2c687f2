"""Tracked links: a campaign's link map, and each reader's value of its links.

When a variant is rendered, every http(s) link of its HTML is stored once per
campaign as a ``Link`` row and its ``href`` becomes a merge field,
``{{relay:link_<id>}}``. Each reader's value of that field is the click
redirect ``/t/c/<delivery token>/<link id>/`` when they consented to tracking
(and the deployment is not anonymous), else the original URL. The redirect
only ever answers with a stored URL, looked up by id and campaign, so it can
never be used as an open redirect.

Not rewritten: ``mailto:`` and other schemes, links holding a merge field
(unsubscribe, preferences), and the view-in-browser link.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable

from django.conf import settings
from django.urls import reverse

from newsletter.models import Contact, Link

# An <a> tag's href, with its quote: the whole attribute is replaced.
_HREF = re.compile(
    r"""(<a\b[^>]*?\shref\s*=\s*)(["'])(.*?)\2""", re.IGNORECASE | re.DOTALL
)
_MAX_URL = 2000
LINK_FIELD_PREFIX = "link_"


def tracking_allowed(contact: Contact) -> bool:
    """Return whether per-person opens and clicks of ``contact`` may be kept now."""
    return contact.tracking_consent and not settings.RELAY_ANONYMOUS_TRACKING


def click_url(token: str, link_id: int) -> str:
    """Return the absolute click redirect of a delivery token for one link."""
    return settings.RELAY_BASE_URL + reverse("newsletter:click", args=[token, link_id])


def _trackable(url: str, *, web_url: str) -> bool:
    return (
        url.lower().startswith(("http://", "https://"))
        and "{{relay:" not in url
        and url != web_url
        and len(url) <= _MAX_URL
        and not any(c.isspace() for c in url)
    )


def links_rewrite(
    markup: str, *, campaign_id: int, web_url: str = ""
) -> tuple[str, dict[int, str]]:
    """Store the http(s) links of ``markup`` in the campaign's link map.

    Return the markup with each such ``href`` replaced by its link's merge
    field, and the map of link id to URL. Two queries, whatever the number of
    links: a bulk insert that skips existing rows, and one read of the ids.
    """
    found: list[str] = []
    for match in _HREF.finditer(markup):
        url = html.unescape(match.group(3)).strip()
        if _trackable(url, web_url=web_url) and url not in found:
            found.append(url)
    if not found:
        return markup, {}
    Link.objects.bulk_create(
        [
            Link(campaign_id=campaign_id, url=url, position=position)
            for position, url in enumerate(found)
        ],
        ignore_conflicts=True,
    )
    ids = dict(
        Link.objects.filter(campaign_id=campaign_id, url__in=found).values_list(
            "url", "pk"
        )
    )

    def replace(match: re.Match[str]) -> str:
        url = html.unescape(match.group(3)).strip()
        if url not in ids:
            return match.group(0)
        field = "{{relay:" + LINK_FIELD_PREFIX + str(ids[url]) + "}}"
        return f"{match.group(1)}{match.group(2)}{field}{match.group(2)}"

    return _HREF.sub(replace, markup), {pk: url for url, pk in ids.items()}


def link_fields(links: Iterable[tuple[int, str]], *, tracking: str) -> dict[str, str]:
    """Return one reader's values of the link merge fields; no query.

    ``tracking``: the reader's tracking id (``newsletter.tracking.signed``), for
    click redirects; "" for the original URLs, so that nothing in the mail
    identifies the reader.
    """
    if not tracking:
        return {f"{LINK_FIELD_PREFIX}{pk}": url for pk, url in links}
    # reverse() once: only the link id differs between a reader's links.
    base = click_url(tracking, 0)
    stem = base[: -len("/0/")]
    return {f"{LINK_FIELD_PREFIX}{pk}": f"{stem}/{pk}/" for pk, _url in links}


def link_pk(link_id: str) -> int | None:
    """Return the link id of a click path as a number, or None for anything but one."""
    if not link_id.isascii() or not link_id.isdigit() or len(link_id) > 18:
        return None
    return int(link_id)


# Links by id, as read: a link never changes once stored, so a process keeps
# what it read (up to _TARGETS_MAX links) for the click redirects of signed
# tracking ids. Only links that exist are kept.
_targets: dict[int, tuple[int, str]] = {}
_TARGETS_MAX = 4096


def link_target(pk: int) -> tuple[int, str] | None:
    """Return (campaign id, URL) of link ``pk``, or None when there is none."""
    target = _targets.get(pk)
    if target is None:
        target = Link.objects.filter(pk=pk).values_list("campaign_id", "url").first()
        if target is None:
            return None
        if len(_targets) >= _TARGETS_MAX:
            _targets.clear()
        _targets[pk] = target
    return target

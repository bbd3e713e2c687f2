"""anymail's webhook URLs, with every tracking view refusing stale replays.

Mounted in place of ``include("anymail.urls")`` at ``anymail/``: the same
paths and names (namespace ``anymail``), so provider settings need no change.
Inbound views are anymail's own.
"""

from __future__ import annotations

from anymail import urls as anymail_urls
from anymail.signals import tracking
from django.urls import URLPattern, URLResolver

from newsletter.tracking.webhooks import ReplayWindowMixin

app_name = "anymail"


def _wrapped(pattern: URLPattern | URLResolver) -> URLPattern | URLResolver:
    """Return ``pattern``, or a copy of it whose tracking view refuses stale replays."""
    if not isinstance(pattern, URLPattern):
        return pattern
    view_class = getattr(pattern.callback, "view_class", None)
    if view_class is None or getattr(view_class, "signal", None) is not tracking:
        return pattern
    guarded = type(view_class.__name__, (ReplayWindowMixin, view_class), {})
    return URLPattern(
        pattern.pattern, guarded.as_view(), pattern.default_args, pattern.name
    )


urlpatterns = [_wrapped(pattern) for pattern in anymail_urls.urlpatterns]

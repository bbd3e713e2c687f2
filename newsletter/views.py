"""Public endpoints of the newsletter engine, and the local outbox viewer."""

from __future__ import annotations

import base64

from django.contrib.auth.decorators import user_passes_test
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from newsletter.sending.outbox import outbox_list, outbox_read
from newsletter.tracking.events import open_record
from newsletter.tracking.tokens import delivery_for_token

# The smallest transparent GIF (1x1 pixel, 43 bytes).
admin_required = user_passes_test(
    lambda user: user.has_perm("wagtailadmin.access_admin"),
    login_url=reverse_lazy("wagtailadmin_login"),
)

PIXEL_GIF = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")


@never_cache
@require_GET
def open_pixel(request: HttpRequest, token: str) -> HttpResponse:
    """Record an open for the delivery behind ``token`` and answer a 1x1 GIF."""
    delivery = delivery_for_token(token)
    if delivery is None:
        raise Http404
    open_record(delivery=delivery, user_agent=request.headers.get("User-Agent", ""))
    return HttpResponse(PIXEL_GIF, content_type="image/gif")


@admin_required
def outbox(request: HttpRequest) -> HttpResponse:
    """List the mails in the local outbox."""
    return render(request, "newsletter/outbox_list.html", {"mails": outbox_list()})


@admin_required
def outbox_mail(request: HttpRequest, name: str) -> HttpResponse:
    """Show one mail of the local outbox: its HTML and its text part."""
    mail = outbox_read(name)
    if mail is None:
        raise Http404
    return render(request, "newsletter/outbox_mail.html", {"mail": mail})

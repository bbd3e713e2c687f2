"""Relay's URLs plus the bare view bench/tracking measures the endpoints against."""

from django.http import HttpRequest, HttpResponse
from django.urls import re_path
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from cms.urls import urlpatterns as relay_urlpatterns
from newsletter.views import PIXEL_GIF


@never_cache
@require_GET
def bare_gif(request: HttpRequest, token: str) -> HttpResponse:
    """Answer the open pixel's GIF, as the pixel does, and do nothing else."""
    return HttpResponse(PIXEL_GIF, content_type="image/gif")


urlpatterns = [
    re_path(r"^t/bare/(?P<token>[^/]+)\.gif$", bare_gif, name="bench_bare_gif"),
    *relay_urlpatterns,
]

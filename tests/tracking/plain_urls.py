"""The site's URLs with anymail's own (unwrapped) webhook views in front.

Relay mounts newsletter.webhooks_urls; these tests show that even anymail's
plain views, were they mounted, store nothing stale.
"""

from django.urls import include, path

from cms.urls import urlpatterns as site_urlpatterns

urlpatterns = [
    path("anymail/", include("anymail.urls")),
    *site_urlpatterns,
]

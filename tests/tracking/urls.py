"""The site's URLs with anymail's webhooks mounted the way Relay mounts them."""

from django.urls import include, path

from cms.urls import urlpatterns as site_urlpatterns

urlpatterns = [
    path("anymail/", include("newsletter.webhooks_urls")),
    *site_urlpatterns,
]

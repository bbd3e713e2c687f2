from django.conf import settings
from django.conf.urls.i18n import i18n_patterns
from django.urls import include, path
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.contrib.sitemaps.views import sitemap
from wagtail.documents import urls as wagtaildocs_urls

from cms.sitemaps import TranslatedSitemap
from newsletter.urls import outbox_urlpatterns, public_urlpatterns

urlpatterns = [
    path("admin/", include(wagtailadmin_urls)),
    path("documents/", include(wagtaildocs_urls)),
    path("anymail/", include("newsletter.webhooks_urls")),
    path("sitemap.xml", sitemap, {"sitemaps": {"pages": TranslatedSitemap}}),
    path("", include("newsletter.urls")),
]

if settings.RELAY_EMAIL_PROVIDER == "outbox":
    urlpatterns += [path("outbox/", include((outbox_urlpatterns, "outbox")))]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

urlpatterns += i18n_patterns(
    path("", include((public_urlpatterns, "public"))),
    path("", include(wagtail_urls)),
)

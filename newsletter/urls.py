from django.urls import path, re_path

from . import views

app_name = "newsletter"

# Endpoints without a language prefix: called by mail programs and providers.
urlpatterns = [
    re_path(r"^t/o/(?P<token>[^/]+)\.gif$", views.open_pixel, name="open_pixel"),
    # Click redirects; anything else under t/c/ is a plain 404 here, so it
    # never falls through to the language redirect and Wagtail's catch-all.
    re_path(
        r"^t/c/(?P<token>[A-Za-z0-9_.-]+)/(?P<link_id>[0-9]+)/\Z",
        views.click,
        name="click",
    ),
    re_path(r"^t/c(?:/(?P<rest>[\s\S]*))?\Z", views.click_not_found),
    re_path(r"^t/f/(?P<token>[^/]+)\.gif$", views.forward_pixel, name="forward_pixel"),
    # An MP's shared link or QR code: short, and the same in every language.
    re_path(r"^s/(?P<token>[A-Za-z0-9_-]+)/\Z", views.shared, name="shared"),
    re_path(r"^s(?:/(?P<rest>[\s\S]*))?\Z", views.click_not_found),
]

# Pages people read, under a language prefix (/bg/..., /ro/...), mounted in
# cms/urls.py inside i18n_patterns, before Wagtail's catch-all.
public_urlpatterns: list = [
    path("subscribe/", views.subscribe, name="subscribe"),
    path(
        "subscribe/confirm/<str:token>/",
        views.subscribe_confirm,
        name="subscribe_confirm",
    ),
    path("preferences/<str:token>/", views.preferences, name="preferences"),
    # Also the RFC 8058 one-click target: the RFC wants the manual page and the
    # POST on one URL. Under the prefix, LocaleMiddleware never turns a 404
    # into a redirect (it would for an unprefixed path).
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
    # An MP's own web version of a pack, and their forward form.
    path("read/<str:token>/", views.read, name="read"),
    path("forward/<str:token>/", views.forward, name="forward"),
    # A colleague's opt-out from forwarded copies (also RFC 8058 one-click).
    path("forward-stop/<str:token>/", views.forward_stop, name="forward_stop"),
]

outbox_urlpatterns = [
    path("", views.outbox, name="outbox"),
    re_path(r"^(?P<name>[\w.-]+\.eml)$", views.outbox_mail, name="outbox_mail"),
]

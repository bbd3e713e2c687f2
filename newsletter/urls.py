from django.urls import path, re_path

from . import views

app_name = "newsletter"

# Endpoints without a language prefix: called by mail programs and providers.
urlpatterns = [
    re_path(r"^t/o/(?P<token>[^/]+)\.gif$", views.open_pixel, name="open_pixel"),
]

# Pages people read, under a language prefix (/bg/..., /ro/...), mounted in
# cms/urls.py inside i18n_patterns, before Wagtail's catch-all.
public_urlpatterns: list = []

outbox_urlpatterns = [
    path("", views.outbox, name="outbox"),
    re_path(r"^(?P<name>[\w.-]+\.eml)$", views.outbox_mail, name="outbox_mail"),
]

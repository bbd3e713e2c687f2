from django.urls import path, re_path

from . import views

app_name = "newsletter"

urlpatterns = [
    re_path(r"^t/o/(?P<token>[^/]+)\.gif$", views.open_pixel, name="open_pixel"),
]

outbox_urlpatterns = [
    path("", views.outbox, name="outbox"),
    re_path(r"^(?P<name>[\w.-]+\.eml)$", views.outbox_mail, name="outbox_mail"),
]

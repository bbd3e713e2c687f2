"""Wagtail admin hooks of the content side."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path, re_path, reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.menu import MenuItem
from wagtail.admin.widgets import Button
from wagtail.models import Page

from cms.reach_dashboard import can_view_reach, reach_dashboard_view, reach_export_view
from cms.roles import is_source_page, is_translator_only
from cms.views import mail_preview_view, translation_status_view
from newsletter.admin.campaigns import can_send
from newsletter.sending.mailable import Mailable


def _refuse_source_for_translators(
    request: HttpRequest, page: Page
) -> HttpResponse | None:
    # Translators hold page permissions on the whole tree so that they can work
    # in every locale, including ones created later; the source language is
    # closed to them here. A hook that returns a response stops the view.
    if is_translator_only(request.user) and is_source_page(page):
        return render(
            request, "cms/admin/source_locked.html", {"page": page}, status=403
        )
    return None


@hooks.register("before_edit_page")
def guard_edit(request: HttpRequest, page: Page) -> HttpResponse | None:
    return _refuse_source_for_translators(request, page)


@hooks.register("before_delete_page")
def guard_delete(request: HttpRequest, page: Page) -> HttpResponse | None:
    return _refuse_source_for_translators(request, page)


@hooks.register("before_unpublish_page")
def guard_unpublish(request: HttpRequest, page: Page) -> HttpResponse | None:
    return _refuse_source_for_translators(request, page)


@hooks.register("before_move_page")
def guard_move(
    request: HttpRequest, page: Page, destination: Page
) -> HttpResponse | None:
    return _refuse_source_for_translators(request, page)


@hooks.register("before_copy_page")
def guard_copy(request: HttpRequest, page: Page) -> HttpResponse | None:
    return _refuse_source_for_translators(request, page)


@hooks.register("before_create_page")
def guard_create(
    request: HttpRequest, parent_page: Page, page_class: Any
) -> HttpResponse | None:
    return _refuse_source_for_translators(request, parent_page)


@hooks.register("register_admin_urls")
def admin_urls() -> list[Any]:
    return [
        path(
            "translation-status/",
            translation_status_view,
            name="cms_translation_status",
        ),
        path("mail-preview/<int:page_id>/", mail_preview_view, name="cms_mail_preview"),
    ]


@hooks.register("register_admin_menu_item")
def translation_status_menu_item() -> MenuItem:
    return MenuItem(
        _("Translation status"),
        reverse("cms_translation_status"),
        icon_name="globe",
        order=250,
    )


@hooks.register("register_page_header_buttons")
def mail_preview_button(
    page: Page, user: Any, view_name: str, next_url: str | None = None
) -> Iterator[Button]:
    if isinstance(page.specific, Mailable):
        yield Button(
            _("Preview as mail"),
            reverse("cms_mail_preview", args=[page.pk]),
            icon_name="mail",
            priority=12,
        )


def _send_button(page: Page, user: Any, *, priority: int) -> Iterator[Button]:
    # Sending starts from the source page; the form picks it for a translation too.
    if isinstance(page.specific, Mailable) and can_send(user):
        yield Button(
            _("Send…"),
            reverse("newsletter_campaign_new") + f"?page={page.pk}",
            icon_name="mail",
            priority=priority,
        )


@hooks.register("register_page_header_buttons")
def send_header_button(
    page: Page, user: Any, view_name: str, next_url: str | None = None
) -> Iterator[Button]:
    yield from _send_button(page, user, priority=13)


@hooks.register("register_page_listing_more_buttons")
def send_listing_button(
    page: Page, user: Any, next_url: str | None = None
) -> Iterator[Button]:
    yield from _send_button(page, user, priority=13)


@hooks.register("register_admin_urls")
def reach_urls() -> list[Any]:
    return [
        path("reach/", reach_dashboard_view, name="cms_reach_dashboard"),
        re_path(
            r"^reach/export/(?P<file_format>csv|xlsx)/$",
            reach_export_view,
            name="cms_reach_export",
        ),
    ]


class ReachMenuItem(MenuItem):
    def is_shown(self, request: HttpRequest) -> bool:
        return can_view_reach(request.user)


@hooks.register("register_admin_menu_item")
def reach_menu_item() -> MenuItem:
    return ReachMenuItem(
        _("Reach"),
        reverse("cms_reach_dashboard"),
        name="reach",
        icon_name="view",
        order=260,
    )

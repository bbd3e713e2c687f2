"""Wagtail admin hooks of the content side."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from wagtail import hooks
from wagtail.models import Page

from cms.roles import is_source_page, is_translator_only


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
def translation_status_urls() -> list[Any]:
    from django.urls import path

    from cms.views import translation_status_view

    return [
        path(
            "translation-status/",
            translation_status_view,
            name="cms_translation_status",
        )
    ]


@hooks.register("register_admin_menu_item")
def translation_status_menu_item() -> Any:
    from django.urls import reverse
    from django.utils.translation import gettext_lazy as _
    from wagtail.admin.menu import MenuItem

    return MenuItem(
        _("Translation status"),
        reverse("cms_translation_status"),
        icon_name="globe",
        order=250,
    )

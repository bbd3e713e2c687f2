"""Importing and exporting contacts in the Wagtail admin.

Upload → preview (nothing written) → confirm (one transaction). The uploaded
file stays on the server under a random token that is remembered in the
session; the confirmation sends only that token back, never row data.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, re_path, reverse
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_POST
from django.views.defaults import permission_denied
from wagtail import hooks
from wagtail.admin.menu import MenuItem

from newsletter.admin.permissions import requires
from newsletter.audience.exports import contacts_export
from newsletter.audience.imports import (
    MAX_FILE_BYTES,
    MAX_ROWS,
    ContactImportError,
    ContactImportFailed,
    ImportResult,
    contacts_import_confirm,
    contacts_import_discard,
    contacts_import_preview,
    contacts_import_store,
    file_format_for,
)
from newsletter.models import Contact, MailingList

IMPORT_PERMISSIONS = ("newsletter.add_contact", "newsletter.change_contact")
EXPORT_PERMISSION = "newsletter.view_contact"
SESSION_KEY = "newsletter_contact_import"
UPLOAD_TEMPLATE = "newsletter/admin/imports/upload.html"
PREVIEW_TEMPLATE = "newsletter/admin/imports/preview.html"


def can_import(user: Any) -> bool:
    return bool(user.has_perms(IMPORT_PERMISSIONS))


def can_export(user: Any) -> bool:
    return bool(user.has_perm(EXPORT_PERMISSION))


class ContactImportForm(forms.Form):
    file = forms.FileField(
        label=_("File"),
        help_text=_("A CSV file (UTF-8) or an XLSX workbook, at most 5 MB."),
    )
    mailing_list = forms.ModelChoiceField(
        queryset=MailingList.objects.all(),
        required=False,
        label=_("Subscribe the imported contacts to"),
        help_text=_(
            "Only for people who agreed to receive this list. People who unsubscribed from it stay unsubscribed."
        ),
    )
    wording = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        label=_("How these people gave consent"),
        help_text=_(
            "Kept as proof of consent with each subscription, for example: signed up on the attendance sheet in Berlin on 12 May."
        ),
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        try:
            file_format_for(upload.name)
        except ContactImportError as error:
            raise forms.ValidationError(error.message) from None
        if upload.size > MAX_FILE_BYTES:
            raise forms.ValidationError(
                gettext("The file is larger than %(size)d MB.")
                % {"size": MAX_FILE_BYTES // (1024 * 1024)}
            )
        return upload

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("mailing_list") and not cleaned.get("wording", "").strip():
            self.add_error(
                "wording",
                gettext("Say how these people agreed to receive the list."),
            )
        return cleaned


def _forget_pending(request: HttpRequest) -> None:
    pending = request.session.pop(SESSION_KEY, None)
    if pending:
        contacts_import_discard(token=pending["token"], file_format=pending["format"])


def _pending(request: HttpRequest, token: str) -> dict[str, Any] | None:
    """Return the upload waiting in this session under ``token``, if any."""
    pending = request.session.get(SESSION_KEY)
    if not pending or not constant_time_compare(pending["token"], token):
        return None
    return dict(pending)


def _upload_page(request: HttpRequest, form: ContactImportForm) -> HttpResponse:
    return TemplateResponse(
        request,
        UPLOAD_TEMPLATE,
        {
            "form": form,
            "can_import": can_import(request.user),
            "can_export": can_export(request.user),
            "max_rows": MAX_ROWS,
        },
    )


@requires(lambda user: can_import(user) or can_export(user))
def contact_import(request: HttpRequest) -> HttpResponse:
    """Show the upload form; on upload, keep the file and show its preview."""
    if request.method != "POST":
        return _upload_page(request, ContactImportForm())
    if not can_import(request.user):
        return permission_denied(request, PermissionDenied())
    form = ContactImportForm(request.POST, request.FILES)
    if not form.is_valid():
        return _upload_page(request, form)
    upload = form.cleaned_data["file"]
    mailing_list = form.cleaned_data["mailing_list"]
    _forget_pending(request)
    try:
        stored = contacts_import_store(
            content=upload.read(MAX_FILE_BYTES + 1), filename=upload.name
        )
    except ContactImportError as error:
        form.add_error("file", error.message)
        return _upload_page(request, form)
    try:
        preview = contacts_import_preview(
            token=stored.token, file_format=stored.file_format
        )
    except ContactImportError as error:
        contacts_import_discard(token=stored.token, file_format=stored.file_format)
        form.add_error("file", error.message)
        return _upload_page(request, form)
    request.session[SESSION_KEY] = {
        "token": stored.token,
        "format": stored.file_format,
        "filename": upload.name,
        "mailing_list": mailing_list.pk if mailing_list else None,
        "wording": form.cleaned_data["wording"].strip(),
    }
    return TemplateResponse(
        request,
        PREVIEW_TEMPLATE,
        {
            "preview": preview,
            "counts": preview.counts,
            "filename": upload.name,
            "mailing_list": mailing_list,
        },
    )


@require_POST
@requires(can_import)
def contact_import_confirm(request: HttpRequest, token: str) -> HttpResponse:
    """Import the valid rows of the pending upload, all or nothing."""
    pending = _pending(request, token)
    back = redirect("newsletter_contact_import")
    if pending is None:
        # A second tab, an old page or someone else's token: never import it.
        messages.error(
            request,
            gettext("This import has expired. Upload the file again."),
        )
        return back
    request.session.pop(SESSION_KEY, None)
    if "cancel" in request.POST:
        contacts_import_discard(token=token, file_format=pending["format"])
        messages.info(request, gettext("The import was cancelled."))
        return back
    mailing_list = None
    if pending["mailing_list"] is not None:
        mailing_list = MailingList.objects.filter(pk=pending["mailing_list"]).first()
        if mailing_list is None:
            contacts_import_discard(token=token, file_format=pending["format"])
            messages.error(
                request,
                gettext("The mailing list was deleted. Nothing was imported."),
            )
            return back
    try:
        result = contacts_import_confirm(
            token=token,
            file_format=pending["format"],
            mailing_list=mailing_list,
            wording=pending["wording"],
        )
    except ContactImportError as error:
        messages.error(request, error.message)
        return back
    except (ContactImportFailed, DatabaseError):
        contacts_import_discard(token=token, file_format=pending["format"])
        messages.error(
            request,
            gettext(
                "The import failed part-way and nothing was imported. Upload the file again to retry."
            ),
        )
        return back
    messages.success(request, _result_message(result))
    return back


def _result_message(result: ImportResult) -> str:
    parts = [
        ngettext(
            "%(count)d contact created.", "%(count)d contacts created.", result.created
        )
        % {"count": result.created},
        ngettext(
            "%(count)d contact updated.", "%(count)d contacts updated.", result.updated
        )
        % {"count": result.updated},
        ngettext(
            "%(count)d contact unchanged.",
            "%(count)d contacts unchanged.",
            result.unchanged,
        )
        % {"count": result.unchanged},
        ngettext(
            "%(count)d row with errors left out.",
            "%(count)d rows with errors left out.",
            result.left_out,
        )
        % {"count": result.left_out},
    ]
    if result.subscribed or result.kept_unsubscribed:
        parts.append(
            ngettext(
                "%(count)d subscribed to the list.",
                "%(count)d subscribed to the list.",
                result.subscribed,
            )
            % {"count": result.subscribed}
        )
    if result.kept_unsubscribed:
        parts.append(
            ngettext(
                "%(count)d had unsubscribed from the list and stays unsubscribed.",
                "%(count)d had unsubscribed from the list and stay unsubscribed.",
                result.kept_unsubscribed,
            )
            % {"count": result.kept_unsubscribed}
        )
    return " ".join(parts)


@require_GET
@requires(can_export)
def contact_export(request: HttpRequest, file_format: str) -> HttpResponse:
    """Download every contact (except erased ones) as CSV or XLSX."""
    export = contacts_export(
        contacts=Contact.objects.exclude(status=Contact.Status.ERASED),
        file_format=file_format,
    )
    response = HttpResponse(export.content, content_type=export.content_type)
    response["Content-Disposition"] = f'attachment; filename="{export.filename}"'
    return response


@hooks.register("register_admin_urls")
def register_admin_urls() -> list[Any]:
    return [
        path("contact-import/", contact_import, name="newsletter_contact_import"),
        path(
            "contact-import/<str:token>/confirm/",
            contact_import_confirm,
            name="newsletter_contact_import_confirm",
        ),
        re_path(
            r"^contact-export/(?P<file_format>csv|xlsx)/$",
            contact_export,
            name="newsletter_contact_export",
        ),
    ]


class ContactImportMenuItem(MenuItem):
    def is_shown(self, request: HttpRequest) -> bool:
        return can_import(request.user) or can_export(request.user)


@hooks.register("register_admin_menu_item")
def register_contact_import_menu_item() -> MenuItem:
    return ContactImportMenuItem(
        _("Import and export contacts"),
        reverse("newsletter_contact_import"),
        name="contact-import",
        icon_name="upload",
        order=320,
    )

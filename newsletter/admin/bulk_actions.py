"""Bulk actions on the contact listing: add to a list, set the language, export."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models.deletion import ProtectedError
from django.http import HttpResponse
from django.utils.functional import classproperty
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from wagtail.log_actions import log
from wagtail.snippets.bulk_actions.delete import DeleteBulkAction
from wagtail.snippets.bulk_actions.snippet_bulk_action import SnippetBulkAction

from newsletter.audience.consent import subscription_subscribe
from newsletter.audience.contacts import contacts_set_language
from newsletter.models import ConsentRecord, Contact

from .forms import AddToListForm, ExportForm, SetLanguageForm
from .permissions import ModelAccessRequiredMixin


class ContactBulkAction(ModelAccessRequiredMixin, SnippetBulkAction):
    permission_needed = "change"
    template_name = "newsletter/admin/bulk_actions/confirm_with_form.html"
    button_label = _("Apply")

    @classproperty
    def models(cls) -> list[type[Contact]]:
        return [Contact]

    def check_perm(self, obj: Contact) -> bool:
        return self.permission_policy.user_has_permission_for_instance(
            self.request.user, self.permission_needed, obj
        )

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["button_label"] = self.button_label
        context["page_heading"] = self.display_name
        return context

    def get_execution_context(self) -> dict[str, Any]:
        return {
            **super().get_execution_context(),
            "user": self.request.user,
            **self.cleaned_form.cleaned_data,
        }


class AddToListBulkAction(ContactBulkAction):
    display_name = _("Add to list")
    action_type = "add_to_list"
    aria_label = _("Add the selected contacts to a mailing list")
    form_class = AddToListForm
    button_label = _("Add to list")
    action_priority = 10

    @classmethod
    def execute_action(
        cls, objects: list[Contact], *, mailing_list: Any, user: Any, **kwargs: Any
    ) -> tuple[int, int]:
        added = 0
        for contact in objects:
            if contact.status == Contact.Status.ERASED:
                continue
            subscription_subscribe(
                contact=contact,
                mailing_list=mailing_list,
                source=ConsentRecord.Source.ADMIN,
            )
            log(
                instance=contact,
                action="newsletter.add_to_list",
                user=user,
                data={"list": mailing_list.slug},
            )
            added += 1
        return added, 0

    def get_success_message(
        self, num_parent_objects: int, num_child_objects: int
    ) -> str:
        return ngettext(
            "%(count)d contact added to the list.",
            "%(count)d contacts added to the list.",
            num_parent_objects,
        ) % {"count": num_parent_objects}


class SetLanguageBulkAction(ContactBulkAction):
    display_name = _("Set language")
    action_type = "set_language"
    aria_label = _("Set the preferred language of the selected contacts")
    form_class = SetLanguageForm
    button_label = _("Set language")
    action_priority = 20

    @classmethod
    def execute_action(
        cls, objects: list[Contact], *, language: str, user: Any, **kwargs: Any
    ) -> tuple[int, int]:
        changed = contacts_set_language(
            contact_ids=[contact.pk for contact in objects], language=language
        )
        for contact in changed:
            log(
                instance=contact,
                action="wagtail.edit",
                user=user,
                content_changed=True,
                data={"preferred_language": language},
            )
        return len(changed), 0

    def get_success_message(
        self, num_parent_objects: int, num_child_objects: int
    ) -> str:
        return ngettext(
            "Preferred language changed for %(count)d contact.",
            "Preferred language changed for %(count)d contacts.",
            num_parent_objects,
        ) % {"count": num_parent_objects}


class ExportBulkAction(ContactBulkAction):
    display_name = _("Export")
    action_type = "export"
    aria_label = _("Export the selected contacts")
    form_class = ExportForm
    button_label = _("Download")
    permission_needed = "view"
    action_priority = 30

    def check_perm(self, obj: Contact) -> bool:
        return self.permission_policy.user_has_any_permission_for_instance(
            self.request.user, ["view", "change"], obj
        )

    def form_valid(self, form: ExportForm) -> HttpResponse:
        # An export changes nothing: answer with the file instead of redirecting.
        from newsletter.audience.exports import contacts_export

        objects, _no_access = self.get_actionable_objects()
        export = contacts_export(
            contacts=Contact.objects.filter(pk__in=[c.pk for c in objects]),
            file_format=form.cleaned_data["file_format"],
        )
        response = HttpResponse(export.content, content_type=export.content_type)
        response["Content-Disposition"] = f'attachment; filename="{export.filename}"'
        return response


class ContactDeleteBulkAction(ModelAccessRequiredMixin, DeleteBulkAction):
    """Delete only contacts nothing else refers to; the rest must be erased instead."""

    @classproperty
    def models(cls) -> list[type[Contact]]:
        return [Contact]

    @classmethod
    def execute_action(cls, objects: list[Contact], **kwargs: Any) -> tuple[int, int]:
        deleted = 0
        for contact in objects:
            try:
                with transaction.atomic():
                    contact.delete()
            except ProtectedError:
                continue
            deleted += 1
        return deleted, 0

    def get_success_message(
        self, num_parent_objects: int, num_child_objects: int
    ) -> str:
        kept = len(self.actionable_objects) - num_parent_objects
        message = ngettext(
            "%(count)d contact deleted.",
            "%(count)d contacts deleted.",
            num_parent_objects,
        ) % {"count": num_parent_objects}
        if kept:
            message += " " + gettext(
                "%(count)d kept: they have deliveries or consent records; erase them instead."
            ) % {"count": kept}
        return message


BULK_ACTIONS = [
    AddToListBulkAction,
    SetLanguageBulkAction,
    ExportBulkAction,
]

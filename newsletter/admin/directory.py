"""The contact directory in the Wagtail admin.

One "Contacts" menu groups contacts, mailing lists, topics, segments and the
read-only consent records and suppressions. Everything is a Wagtail snippet
viewset, so listing, search, filters, history (log entries) and bulk actions
work the Wagtail way; writes that are consent changes go through
``newsletter.audience.consent``.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.ui.tables import Column
from wagtail.permissions import register_permission_policy
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet, SnippetViewSetGroup

from newsletter.models import (
    ConsentRecord,
    MailingList,
    Subscription,
    Suppression,
    Topic,
)

from .bulk_actions import BULK_ACTIONS, ContactDeleteBulkAction
from .contacts import ContactViewSet, GuardedChooserViewSet
from .permissions import ReadOnlyPermissionPolicy
from .segments import SegmentViewSet

register_permission_policy(ConsentRecord, ReadOnlyPermissionPolicy(ConsentRecord))
register_permission_policy(Suppression, ReadOnlyPermissionPolicy(Suppression))


class MailingListViewSet(SnippetViewSet):
    chooser_viewset_class = GuardedChooserViewSet
    model = MailingList
    icon = "list-ul"
    menu_label = _("Mailing lists")
    url_prefix = "directory/lists"
    search_fields = ["name", "slug", "description"]
    list_display = [
        "name",
        "slug",
        "is_public",
        Column("subscribers", label=_("Subscribers"), sort_key="subscribers"),
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[MailingList]:
        return MailingList.objects.annotate(
            subscribers=Count(
                "subscriptions",
                filter=Q(subscriptions__status=Subscription.Status.SUBSCRIBED),
            )
        )


class TopicViewSet(SnippetViewSet):
    chooser_viewset_class = GuardedChooserViewSet
    model = Topic
    icon = "tag"
    menu_label = _("Topics")
    url_prefix = "directory/topics"
    search_fields = ["name", "slug"]
    list_display = ["name", "slug"]


class ConsentRecordViewSet(SnippetViewSet):
    chooser_viewset_class = GuardedChooserViewSet
    model = ConsentRecord
    icon = "doc-full"
    menu_label = _("Consent records")
    url_prefix = "directory/consent"
    inspect_view_enabled = True
    copy_view_enabled = False
    search_fields = ["contact__email"]
    list_display = [
        "__str__",
        "action",
        "source",
        "mailing_list",
        "language",
        "created_at",
    ]
    list_filter = ["action", "source"]


class SuppressionViewSet(SnippetViewSet):
    chooser_viewset_class = GuardedChooserViewSet
    model = Suppression
    icon = "warning"
    menu_label = _("Suppressions")
    url_prefix = "directory/suppressions"
    inspect_view_enabled = True
    copy_view_enabled = False
    list_display = ["__str__", "reason", "created_at", "lifted_at"]
    list_filter = ["reason"]


class DirectoryViewSetGroup(SnippetViewSetGroup):
    menu_label = _("Contacts")
    menu_icon = "group"
    menu_order = 150
    items = (
        ContactViewSet,
        MailingListViewSet,
        TopicViewSet,
        SegmentViewSet,
        ConsentRecordViewSet,
        SuppressionViewSet,
    )


register_snippet(DirectoryViewSetGroup)

for action_class in BULK_ACTIONS:
    hooks.register("register_bulk_action", action_class)
# Registered after Wagtail's own delete action (order) so that it replaces it for
# contacts: deleting a contact that deliveries refer to must not crash.
hooks.register("register_bulk_action", ContactDeleteBulkAction, order=100)


@hooks.register("register_log_actions")
def register_directory_log_actions(actions: Any) -> None:
    actions.register_action(
        "newsletter.add_to_list", _("Add to list"), _("Added to a mailing list")
    )
    actions.register_action(
        "newsletter.gdpr_export", _("Export personal data"), _("Personal data exported")
    )
    actions.register_action(
        "newsletter.erase", _("Erase personal data"), _("Personal data erased")
    )

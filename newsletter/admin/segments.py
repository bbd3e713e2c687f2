"""Segments in the Wagtail admin: a rule form and a live count of the audience."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, JsonResponse
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET
from wagtail.admin.panels import FieldPanel, MultiFieldPanel, ObjectList, Panel
from wagtail.admin.ui.tables import Column
from wagtail.permissions import policy_registry
from wagtail.snippets.views.snippets import SnippetViewSet

from newsletter.audience.segments import SegmentCounts, segment_counts
from newsletter.models import Contact, Segment

from .contacts import GuardedChooserViewSet
from .forms import SegmentAdminForm, SegmentRulesForm, rules_from_cleaned


def _can_count(user: Any) -> bool:
    segments = policy_registry.get_by_type(Segment)
    contacts = policy_registry.get_by_type(Contact)
    return segments.user_has_any_permission(
        user, ["add", "change", "view"]
    ) and contacts.user_has_any_permission(user, ["change", "view"])


@require_GET
def segment_count(request: HttpRequest) -> JsonResponse:
    """Return the audience of the rules in the query string, by country and language."""
    if not _can_count(request.user):
        raise PermissionDenied
    form = SegmentRulesForm(request.GET)
    if not form.is_valid():
        return JsonResponse({"errors": form.errors.get_json_data()}, status=400)
    try:
        counts = segment_counts(rules_from_cleaned(form.cleaned_data))
    except ValidationError as error:
        return JsonResponse({"errors": {"__all__": error.messages}}, status=400)
    return JsonResponse(counts.as_json())


class AudienceCountPanel(Panel):
    """The live count of the segment's audience, refreshed as the rules change."""

    class BoundPanel(Panel.BoundPanel):
        template_name = "newsletter/admin/segment_count_panel.html"

        def get_context_data(self, parent_context: Any = None) -> dict[str, Any]:
            context = super().get_context_data(parent_context)
            counts: SegmentCounts | None
            try:
                counts = segment_counts(self.instance.rules or {})
            except ValidationError:
                counts = None
            context["counts"] = counts
            context["count_url"] = reverse(
                Segment.snippet_viewset.get_url_name("count")
            )
            return context


def audience_size(segment: Segment) -> int | str:
    try:
        return segment_counts(segment.rules).total
    except ValidationError:
        return "—"


class SegmentViewSet(SnippetViewSet):
    chooser_viewset_class = GuardedChooserViewSet
    model = Segment
    icon = "filter"
    menu_label = _("Segments")
    url_prefix = "directory/segments"
    copy_view_enabled = True
    search_fields = ["name", "description"]
    list_display = [
        "name",
        Column("audience", label=_("Audience"), accessor=audience_size),
        "created_at",
    ]
    edit_handler = ObjectList(
        [
            FieldPanel("name"),
            FieldPanel("description"),
            MultiFieldPanel(
                [
                    FieldPanel("kind"),
                    FieldPanel("country"),
                    FieldPanel("parliament"),
                    FieldPanel("language"),
                    FieldPanel("topics"),
                    FieldPanel("focal_point"),
                    FieldPanel("status"),
                    FieldPanel("lists"),
                    FieldPanel("opened_within_days"),
                    FieldPanel("clicked_within_days"),
                ],
                heading=_("Who is in the segment (every filter set must match)"),
            ),
            AudienceCountPanel(heading=_("Audience")),
        ],
        base_form_class=SegmentAdminForm,
    )

    def get_urlpatterns(self) -> list[Any]:
        return [
            *super().get_urlpatterns(),
            path("count/", segment_count, name="count"),
        ]

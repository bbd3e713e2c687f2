"""The reach dashboard in the Wagtail admin, and its CSV and XLSX downloads.

It lives on the content side because it filters by event: a campaign belongs
to an event when its page is a report-back pack whose "event" is that event
(in any language). The figures themselves come from ``newsletter.reach``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET
from django.views.defaults import permission_denied
from wagtail.models import Page

from cms.models import EventPage, ReportBackPackPage
from newsletter.formatting import format_number
from newsletter.models import Campaign
from newsletter.reach.charts import reach_map, reach_over_time
from newsletter.reach.dashboard import ReachScope, dashboard
from newsletter.reach.exports import XLSX_CONTENT_TYPE, reach_csv, reach_xlsx

# Who may read the delivery ledger and the event log may read the figures made
# from them: the Secretariat holds both, Translators neither.
PERMISSIONS = ("newsletter.view_delivery", "newsletter.view_trackingevent")
TEMPLATE = "cms/admin/reach_dashboard.html"


def can_view_reach(user: Any) -> bool:
    return bool(user.has_perms(PERMISSIONS))


PRESETS = {
    "30d": _("Last 30 days"),
    "12m": _("Last 12 months"),
    "this_year": _("This year"),
    "last_year": _("Last year"),
}


def preset_period(preset: str, *, today: date) -> tuple[date, date]:
    """Return the first and last day (both included) of a named period."""
    if preset == "30d":
        return today - timedelta(days=29), today
    if preset == "12m":
        return today - timedelta(days=364), today
    if preset == "this_year":
        return date(today.year, 1, 1), today
    if preset == "last_year":
        return date(today.year - 1, 1, 1), date(today.year - 1, 12, 31)
    raise ValueError(preset)


class EventChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.title} ({obj.start_date.isoformat()})"


class ReachFilterForm(forms.Form):
    """The dashboard's filters; also what the downloads are limited to."""

    preset = forms.ChoiceField(
        label=_("Period"),
        required=False,
        choices=[("", _("Dates below")), *PRESETS.items()],
    )
    start = forms.DateField(
        label=_("From"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    end = forms.DateField(
        label=_("To (included)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    event = EventChoiceField(
        label=_("Event"),
        required=False,
        queryset=EventPage.objects.none(),
        help_text=_("Campaigns of the report-back packs of this event."),
    )
    campaign = forms.ModelChoiceField(
        label=_("Campaign"),
        required=False,
        queryset=Campaign.objects.order_by("-created_at"),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["event"].queryset = EventPage.objects.filter(  # type: ignore[attr-defined]
            locale__language_code=settings.LANGUAGE_CODE
        ).order_by("-start_date")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        preset = cleaned.get("preset")
        if preset:
            cleaned["start"], cleaned["end"] = preset_period(
                preset, today=timezone.now().astimezone(UTC).date()
            )
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end and start > end:
            self.add_error("end", gettext("The end comes before the start."))
        return cleaned

    def scope(self) -> ReachScope:
        """Return what the valid filters select (UTC days, the end day included)."""
        data = self.cleaned_data
        start, end = data.get("start"), data.get("end")
        campaign_ids: set[int] | None = None
        if data.get("event"):
            campaign_ids = event_campaign_ids(data["event"])
        if data.get("campaign"):
            chosen = {data["campaign"].pk}
            campaign_ids = chosen if campaign_ids is None else campaign_ids & chosen
        return ReachScope(
            start=datetime.combine(start, time.min, tzinfo=UTC) if start else None,
            end=(
                datetime.combine(end + timedelta(days=1), time.min, tzinfo=UTC)
                if end
                else None
            ),
            campaign_ids=None if campaign_ids is None else frozenset(campaign_ids),
        )

    def description(self) -> list[tuple[str, str]]:
        """Return (filter, value) lines for the files: the event and the campaign."""
        lines = []
        if self.cleaned_data.get("event"):
            event = self.cleaned_data["event"]
            lines.append(("Event", f"{event.title} ({event.start_date.isoformat()})"))
        if self.cleaned_data.get("campaign"):
            lines.append(("Campaign", self.cleaned_data["campaign"].name))
        return lines


def event_campaign_ids(event: EventPage) -> set[int]:
    """Return the campaigns whose page is a report-back pack of ``event``, in any language."""
    events = Page.objects.filter(translation_key=event.translation_key)
    packs = ReportBackPackPage.objects.filter(event__in=events).values(
        "translation_key"
    )
    pages = Page.objects.filter(translation_key__in=packs)
    return set(Campaign.objects.filter(page__in=pages).values_list("pk", flat=True))


def _refused(request: HttpRequest) -> HttpResponse | None:
    # Answer 403 here: Wagtail turns a raised PermissionDenied into a redirect.
    if not can_view_reach(request.user):
        return permission_denied(request, PermissionDenied())
    return None


def _form(request: HttpRequest) -> ReachFilterForm:
    return ReachFilterForm(request.GET if request.GET else {})


def _country_figure(country: str, count: int) -> str:
    return gettext("%(country)s: %(count)s (MPs reached directly)") % {
        "country": country,
        "count": format_number(count, language=_language()),
    }


def _language() -> str:
    return translation.get_language() or settings.LANGUAGE_CODE


@require_GET
def reach_dashboard_view(request: HttpRequest) -> HttpResponse:
    """Show the reach against the targets, a map, a chart and the tables."""
    if refused := _refused(request):
        return refused
    form = _form(request)
    if not form.is_valid():
        return TemplateResponse(request, TEMPLATE, {"form": form}, status=400)
    board = dashboard(form.scope())
    language = _language()
    return TemplateResponse(
        request,
        TEMPLATE,
        {
            "form": form,
            "board": board,
            "query": request.GET.urlencode(),
            "map_svg": reach_map(
                ((row.country, row.direct_reach) for row in board.countries),
                language=language,
                title=gettext("MPs reached directly, by country"),
                describe=_country_figure,
            ),
            "timeline_svg": reach_over_time(
                board.timeline.points,
                language=language,
                title=gettext("Reach and opens over time"),
                unit=board.timeline.unit,
                series=[
                    ("direct_reach", gettext("MPs reached directly")),
                    ("engaged_direct_reach", gettext("MPs who opened or clicked")),
                    ("human_opens", gettext("Opened by people")),
                    ("machine_opens", gettext("Opened by machines")),
                ],
            ),
        },
    )


@require_GET
def reach_export_view(request: HttpRequest, file_format: str) -> HttpResponse:
    """Download the dashboard's figures, with the same filters, as CSV or XLSX."""
    if refused := _refused(request):
        return refused
    form = _form(request)
    if not form.is_valid():
        return TemplateResponse(request, TEMPLATE, {"form": form}, status=400)
    scope = form.scope()
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    if file_format == "csv":
        content = reach_csv(scope.figures(), filters=form.description())
        # The byte-order mark makes Excel read the file as UTF-8.
        response = HttpResponse(
            content.encode("utf-8-sig"), content_type="text/csv; charset=utf-8"
        )
    else:
        response = HttpResponse(
            reach_xlsx(dashboard(scope), filters=form.description()),
            content_type=XLSX_CONTENT_TYPE,
        )
    response["Content-Disposition"] = (
        f'attachment; filename="reach-{stamp}.{file_format}"'
    )
    return response

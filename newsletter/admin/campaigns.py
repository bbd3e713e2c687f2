"""Campaigns in the Wagtail admin: create, check, approve, test, send, watch.

Every view checks the campaign permissions itself (there are no generic
Wagtail views, so no chooser or bulk-action page to guard). Every change is a
POST with a CSRF token and calls one service; a GET changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.apps import apps
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.core.validators import validate_email
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST
from django.views.defaults import permission_denied
from wagtail import hooks
from wagtail.admin import messages
from wagtail.admin.menu import MenuItem
from wagtail.admin.widgets import AdminDateTimeInput
from wagtail.models import Locale, Page

from newsletter.admin.permissions import requires
from newsletter.audience.segments import segment_rules_validate
from newsletter.models import Campaign, Delivery, MailingList, Segment
from newsletter.sending.campaigns import (
    CampaignActionError,
    approval_required,
    campaign_approval_refusal,
    campaign_approve,
    campaign_cancel,
    campaign_create,
    campaign_pause,
    campaign_resume,
    campaign_schedule,
    campaign_send_again,
    campaign_start,
    campaign_unschedule,
)
from newsletter.sending.forecast import audience_forecast, campaign_forecast
from newsletter.sending.languages import live_translations
from newsletter.sending.progress import campaign_progress
from newsletter.sending.render import render_variant
from newsletter.sending.testsend import variant_test_send

VIEW = "newsletter.view_campaign"
SEND = "newsletter.send_campaign"
APPROVE = "newsletter.approve_campaign"
PER_PAGE = 50
MAX_TEST_ADDRESSES = 10


def can_view(user: Any) -> bool:
    return bool(user.has_perm(VIEW))


def can_send(user: Any) -> bool:
    return bool(user.has_perms([SEND, "newsletter.add_campaign"]))


def mailable_pages() -> QuerySet[Page]:
    """Return the live source-language pages that can be sent as mail."""
    types = [
        ContentType.objects.get_for_model(model)
        for model in apps.get_models()
        if issubclass(model, Page)
        and hasattr(model, "email_template")
        and hasattr(model, "get_email_context")
    ]
    return (
        Page.objects.live()
        .filter(content_type__in=types, locale__language_code=settings.LANGUAGE_CODE)
        .order_by("-first_published_at", "-pk")
    )


class CampaignForm(forms.Form):
    page = forms.ModelChoiceField(
        label=gettext_lazy("Issue or pack"), queryset=Page.objects.none()
    )
    name = forms.CharField(
        label=gettext_lazy("Name"),
        max_length=255,
        required=False,
        help_text=gettext_lazy("For the secretariat only; the page title if empty."),
    )
    lists = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Mailing lists"),
        queryset=MailingList.objects.order_by("name"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    segments = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Segments"),
        queryset=Segment.objects.order_by("name"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    language_policy = forms.ChoiceField(
        label=gettext_lazy("Readers whose languages are missing"),
        choices=Campaign.LanguagePolicy.choices,
        initial=Campaign.LanguagePolicy.SOURCE,
        widget=forms.RadioSelect,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["page"].queryset = mailable_pages()  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not cleaned.get("lists") and not cleaned.get("segments"):
            raise ValidationError(
                _("Choose at least one mailing list or segment."), code="no_audience"
            )
        for segment in cleaned.get("segments") or []:
            try:
                segment_rules_validate(segment.rules)
            except ValidationError as error:
                raise ValidationError(
                    _("The segment “%(name)s” is not valid: %(error)s")
                    % {"name": segment.name, "error": " ".join(error.messages)},
                    code="invalid_segment",
                ) from error
        return cleaned


class ScheduleForm(forms.Form):
    at = forms.DateTimeField(label=gettext_lazy("Send at"), widget=AdminDateTimeInput)

    def clean_at(self) -> Any:
        at = self.cleaned_data["at"]
        if at <= timezone.now():
            raise ValidationError(_("Choose a time in the future."), code="past")
        return at


class TestSendForm(forms.Form):
    to = forms.CharField(
        label=gettext_lazy("Send a test to"),
        max_length=1000,
        help_text=gettext_lazy("One or more addresses, separated by commas."),
    )
    language = forms.ChoiceField(label=gettext_lazy("Language"))

    def __init__(self, *args: Any, languages: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        names = dict(settings.LANGUAGES)
        self.fields["language"].choices = [  # type: ignore[attr-defined]
            (code, names.get(code, code)) for code in languages
        ]

    def clean_to(self) -> list[str]:
        addresses = [
            item.strip() for item in self.cleaned_data["to"].split(",") if item.strip()
        ]
        if not addresses:
            raise ValidationError(_("Enter at least one address."), code="empty")
        if len(addresses) > MAX_TEST_ADDRESSES:
            raise ValidationError(
                _("Enter at most %(max)d addresses.") % {"max": MAX_TEST_ADDRESSES},
                code="too_many",
            )
        bad = []
        for address in addresses:
            try:
                validate_email(address)
            except ValidationError:
                bad.append(address)
        if bad:
            raise ValidationError(
                _("Not an email address: %(addresses)s")
                % {"addresses": ", ".join(bad)},
                code="invalid",
            )
        return list(dict.fromkeys(addresses))


class DeliveryFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=gettext_lazy("Status"),
        required=False,
        choices=[("", "—"), *Delivery.Status.choices],
    )
    language = forms.ChoiceField(label=gettext_lazy("Language"), required=False)
    q = forms.CharField(label=gettext_lazy("Email"), required=False, max_length=254)

    def __init__(self, *args: Any, languages: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["language"].choices = [  # type: ignore[attr-defined]
            ("", "—"),
            *((code, code) for code in languages),
        ]


def _campaign(campaign_id: int) -> Campaign:
    return get_object_or_404(
        Campaign.objects.select_related(
            "page__locale", "created_by", "approved_by"
        ).prefetch_related("lists", "segments"),
        pk=campaign_id,
    )


@requires(can_view)
@require_GET
def campaign_index(request: HttpRequest) -> HttpResponse:
    """List the campaigns, newest first, with their ledger totals."""
    campaigns = list(
        Campaign.objects.select_related("page")
        .annotate(
            readers=Count("deliveries"),
            sent=Count("deliveries", filter=Q(deliveries__status=Delivery.Status.SENT)),
        )
        .order_by("-created_at")[:200]
    )
    return render(
        request,
        "newsletter/admin/campaigns/index.html",
        {"campaigns": campaigns, "can_send": can_send(request.user)},
    )


@requires(can_send)
def campaign_new(request: HttpRequest) -> HttpResponse:
    """Show the new-campaign form (a page may come filled in); POST creates a draft."""
    if request.method == "POST":
        form = CampaignForm(request.POST)
        if form.is_valid():
            campaign = campaign_create(
                page=form.cleaned_data["page"],
                lists=form.cleaned_data["lists"],
                segments=form.cleaned_data["segments"],
                name=form.cleaned_data["name"],
                language_policy=form.cleaned_data["language_policy"],
                created_by=request.user,
            )
            messages.success(request, _("Campaign created as a draft."))
            return redirect("newsletter_campaign", campaign.pk)
    else:
        initial = {}
        page_id = request.GET.get("page", "")
        if page_id.isdigit():
            page = Page.objects.filter(pk=int(page_id)).select_related("locale").first()
            source = page and page.get_translation_or_none(
                Locale.objects.get(language_code=settings.LANGUAGE_CODE)
            )
            if source is not None:
                initial["page"] = source.pk
        form = CampaignForm(initial=initial)
    return render(
        request,
        "newsletter/admin/campaigns/new.html",
        {"form": form, "audience_url": reverse("newsletter_campaign_audience")},
    )


@requires(can_send)
@require_GET
def campaign_audience_json(request: HttpRequest) -> JsonResponse:
    """Return the forecast of the audience the new-campaign form describes."""
    form = CampaignForm(request.GET)
    if not form.is_valid():
        return JsonResponse(
            {"errors": [str(m) for ms in form.errors.values() for m in ms]}, status=400
        )
    forecast = audience_forecast(
        page=form.cleaned_data["page"],
        lists=form.cleaned_data["lists"],
        segments=form.cleaned_data["segments"],
        policy=form.cleaned_data["language_policy"],
    )
    return JsonResponse(
        {
            "html": render(
                request,
                "newsletter/admin/campaigns/forecast.html",
                {"forecast": forecast, "policy": form.cleaned_data["language_policy"]},
            ).content.decode()
        }
    )


def _deliveries(request: HttpRequest, campaign: Campaign) -> dict[str, Any]:
    languages = sorted(
        set(
            Delivery.objects.filter(campaign=campaign)
            .order_by()
            .values_list("language", flat=True)
            .distinct()
        )
        - {""}
    )
    form = DeliveryFilterForm(request.GET or None, languages=languages)
    rows = Delivery.objects.filter(campaign=campaign).select_related("contact")
    if form.is_valid():
        if form.cleaned_data["status"]:
            rows = rows.filter(status=form.cleaned_data["status"])
        if form.cleaned_data["language"]:
            rows = rows.filter(language=form.cleaned_data["language"])
        if form.cleaned_data["q"]:
            rows = rows.filter(contact__email__icontains=form.cleaned_data["q"])
    page = Paginator(rows.order_by("pk"), PER_PAGE).get_page(request.GET.get("p"))
    query = request.GET.copy()
    query.pop("p", None)
    return {"filter_form": form, "deliveries": page, "filter_query": query.urlencode()}


@requires(can_view)
@require_GET
def campaign_detail(request: HttpRequest, campaign_id: int) -> HttpResponse:
    """Show a campaign: its audience, approval, actions, progress and deliveries."""
    campaign = _campaign(campaign_id)
    user = request.user
    not_started = campaign.status in (Campaign.Status.DRAFT, Campaign.Status.SCHEDULED)
    forecast = error = None
    if not_started:
        try:
            forecast = campaign_forecast(campaign)
        except ValidationError as exc:
            error = " ".join(exc.messages)
    languages = list(live_translations(campaign.page))
    resendable = Delivery.objects.filter(
        campaign=campaign,
        status__in=[Delivery.Status.FAILED, Delivery.Status.UNCERTAIN],
    ).count()
    return render(
        request,
        "newsletter/admin/campaigns/detail.html",
        {
            "campaign": campaign,
            "forecast": forecast,
            "audience_error": error,
            "policy": campaign.language_policy,
            "not_started": not_started,
            "can_send": can_send(user),
            "approval_required": approval_required(),
            "approval_refusal": campaign_approval_refusal(campaign=campaign, user=user)
            if approval_required()
            else "",
            "schedule_form": ScheduleForm(),
            "test_form": TestSendForm(
                initial={
                    "to": user.email,
                    "language": campaign.page.locale.language_code,
                },
                languages=languages,
            ),
            "progress": campaign_progress(campaign_id=campaign.pk),
            "resendable": resendable,
            **_deliveries(request, campaign),
        },
    )


@requires(can_view)
@require_GET
def campaign_progress_json(request: HttpRequest, campaign_id: int) -> JsonResponse:
    """Return the campaign's progress for the live bar."""
    get_object_or_404(Campaign, pk=campaign_id)
    progress = campaign_progress(campaign_id=campaign_id)
    return JsonResponse(
        progress.as_json()
        | {"status_display": str(Campaign.Status(progress.status).label)}
    )


@requires(can_send)
def campaign_resend_confirm(request: HttpRequest, campaign_id: int) -> HttpResponse:
    """GET: say how many readers would get the mail again; POST: send it to them."""
    campaign = _campaign(campaign_id)
    if request.method == "POST":
        try:
            count = campaign_send_again(campaign=campaign)
        except CampaignActionError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(
                request,
                _("Sending again to %(count)d failed or uncertain readers.")
                % {"count": count},
            )
        return redirect("newsletter_campaign", campaign.pk)
    counts = dict(
        Delivery.objects.filter(
            campaign=campaign,
            status__in=[Delivery.Status.FAILED, Delivery.Status.UNCERTAIN],
        )
        .values_list("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    return render(
        request,
        "newsletter/admin/campaigns/resend.html",
        {
            "campaign": campaign,
            "failed": counts.get(Delivery.Status.FAILED, 0),
            "uncertain": counts.get(Delivery.Status.UNCERTAIN, 0),
        },
    )


def _send(request: HttpRequest, campaign: Campaign) -> str:
    status = campaign_start(campaign=campaign)
    if status == Campaign.Status.SCHEDULED:
        return _("The campaign is held until its translations are complete.")
    return _("The campaign is being sent.")


def _schedule(request: HttpRequest, campaign: Campaign) -> str:
    form = ScheduleForm(request.POST)
    if not form.is_valid():
        raise CampaignActionError(" ".join(form.errors["at"]))
    campaign_schedule(campaign=campaign, at=form.cleaned_data["at"])
    return _("The campaign is scheduled.")


def _unschedule(request: HttpRequest, campaign: Campaign) -> str:
    campaign_unschedule(campaign=campaign)
    return _("The campaign is a draft again.")


def _approve(request: HttpRequest, campaign: Campaign) -> str:
    campaign_approve(campaign=campaign, user=request.user)
    return _("Campaign approved.")


def _pause(request: HttpRequest, campaign: Campaign) -> str:
    campaign_pause(campaign=campaign)
    return _("The campaign is paused; nothing more is sent until it is resumed.")


def _resume(request: HttpRequest, campaign: Campaign) -> str:
    campaign_resume(campaign=campaign)
    return _("The campaign is sending again.")


def _cancel(request: HttpRequest, campaign: Campaign) -> str:
    skipped = campaign_cancel(campaign=campaign)
    return _("The campaign is cancelled; %(count)d readers will not get it.") % {
        "count": skipped
    }


def _test(request: HttpRequest, campaign: Campaign) -> str:
    translations = live_translations(campaign.page)
    form = TestSendForm(request.POST, languages=list(translations))
    if not form.is_valid():
        raise CampaignActionError(
            " ".join(
                message for messages_ in form.errors.values() for message in messages_
            )
        )
    language = form.cleaned_data["language"]
    page = Page.objects.get(pk=translations[language]).specific
    variant = render_variant(page, language=language)
    for address in form.cleaned_data["to"]:
        variant_test_send(variant=variant, to=address)
    return _("Test sent to %(addresses)s.") % {
        "addresses": ", ".join(form.cleaned_data["to"])
    }


ACTIONS: dict[str, tuple[str, Callable[[HttpRequest, Campaign], str]]] = {
    "send": (SEND, _send),
    "schedule": (SEND, _schedule),
    "unschedule": (SEND, _unschedule),
    "pause": (SEND, _pause),
    "resume": (SEND, _resume),
    "cancel": (SEND, _cancel),
    "test": (SEND, _test),
    "approve": (APPROVE, _approve),
}


@require_POST
def campaign_action(
    request: HttpRequest, campaign_id: int, action: str
) -> HttpResponse:
    """Run one action on a campaign and come back to its page with the outcome."""
    permission, run = ACTIONS.get(action, ("", None))  # type: ignore[arg-type]
    if run is None:
        return HttpResponse(status=404)
    if not request.user.has_perm(permission):
        return permission_denied(request, PermissionDenied())
    campaign = _campaign(campaign_id)
    try:
        messages.success(request, run(request, campaign))
    except CampaignActionError as exc:
        messages.error(request, str(exc))
    return redirect("newsletter_campaign", campaign.pk)


@hooks.register("register_admin_urls")
def register_admin_urls() -> list[Any]:
    return [
        path("campaigns/", campaign_index, name="newsletter_campaigns"),
        path("campaigns/new/", campaign_new, name="newsletter_campaign_new"),
        path(
            "campaigns/audience/",
            campaign_audience_json,
            name="newsletter_campaign_audience",
        ),
        path(
            "campaigns/<int:campaign_id>/", campaign_detail, name="newsletter_campaign"
        ),
        path(
            "campaigns/<int:campaign_id>/progress/",
            campaign_progress_json,
            name="newsletter_campaign_progress",
        ),
        path(
            "campaigns/<int:campaign_id>/send-again/",
            campaign_resend_confirm,
            name="newsletter_campaign_resend",
        ),
        path(
            "campaigns/<int:campaign_id>/<slug:action>/",
            campaign_action,
            name="newsletter_campaign_action",
        ),
    ]


class CampaignMenuItem(MenuItem):
    def is_shown(self, request: HttpRequest) -> bool:
        return can_view(request.user)


@hooks.register("register_admin_menu_item")
def register_campaign_menu_item() -> MenuItem:
    return CampaignMenuItem(
        gettext_lazy("Campaigns"),
        reverse("newsletter_campaigns"),
        name="campaigns",
        icon_name="mail",
        order=140,
    )

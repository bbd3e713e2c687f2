"""Public endpoints of the newsletter engine, and the local outbox viewer."""

from __future__ import annotations

import base64

from django.contrib.auth.decorators import user_passes_test
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseNotFound,
    HttpResponseRedirect,
)
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import translation
from django.views.decorators.cache import never_cache
from django.views.decorators.common import no_append_slash
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from newsletter.audience.consent import (
    contact_unsubscribe_all,
    subscription_unsubscribe,
)
from newsletter.audience.optin import (
    pending_confirmation,
    subscription_confirm_token,
    subscription_request,
)
from newsletter.audience.preferences import contact_preferences_save, list_choices_for
from newsletter.forms import (
    CONFIRM_WORDING,
    LISTS_WORDING,
    SUBSCRIBE_WORDING,
    TRACKING_WORDING,
    UNSUBSCRIBE_ALL_WORDING,
    UNSUBSCRIBE_LIST_WORDING,
    PreferencesForm,
    SubscribeForm,
)
from newsletter.models import ConsentRecord, Contact, Delivery, MailingList
from newsletter.sending.outbox import outbox_list, outbox_read
from newsletter.tracking.events import click_record, open_record_for_token
from newsletter.tracking.links import link_for_click
from newsletter.tracking.tokens import (
    confirm_tracking_requested,
    contact_for_preferences_token,
    delivery_for_hit,
    delivery_for_token,
)

admin_required = user_passes_test(
    lambda user: user.has_perm("wagtailadmin.access_admin"),
    login_url=reverse_lazy("wagtailadmin_login"),
)

# The smallest transparent GIF (1x1 pixel, 43 bytes).
PIXEL_GIF = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")


@never_cache
@require_GET
def open_pixel(request: HttpRequest, token: str) -> HttpResponse:
    """Record an open for the delivery behind ``token`` and answer a 1x1 GIF."""
    recorded = open_record_for_token(
        token=token, user_agent=request.headers.get("User-Agent", "")
    )
    if recorded is None:
        raise Http404
    return HttpResponse(PIXEL_GIF, content_type="image/gif")


@never_cache
@no_append_slash
@require_GET
def click(request: HttpRequest, token: str, link_id: str) -> HttpResponse:
    """Record a click of a link in a delivery's mail and redirect to the link's stored URL.

    The target is only ever the URL stored in the campaign's link map: any
    unknown token, link id, or link of another campaign gets a plain 404.
    """
    delivery = delivery_for_hit(token)
    link = (
        None
        if delivery is None
        else link_for_click(campaign_id=delivery.campaign_id, link_id=link_id)
    )
    if delivery is None or link is None:
        return _not_found(request)
    click_record(
        delivery=delivery, link=link, user_agent=request.headers.get("User-Agent", "")
    )
    return HttpResponseRedirect(link.url)


@no_append_slash
def click_not_found(request: HttpRequest, rest: str = "") -> HttpResponse:
    """Answer a plain 404 for any other path under /t/c/."""
    return _not_found(request)


class _NoRoutes:
    """A URLconf without routes (see ``_not_found``)."""

    urlpatterns: list = []


def _not_found(request: HttpRequest) -> HttpResponse:
    """Return the same plain 404 for every wrong click link.

    LocaleMiddleware turns a 404 of an unprefixed path into a redirect to the
    same path under a language prefix when that path resolves, and Wagtail's
    catch-all resolves ``/<lang>/t/c/<token>/<id>/``. Pointing this request's
    URLconf at one without routes, once the view has run, keeps the 404 a 404.
    """
    request.urlconf = _NoRoutes
    return HttpResponseNotFound("Not found", content_type="text/plain")


@admin_required
def outbox(request: HttpRequest) -> HttpResponse:
    """List the mails in the local outbox."""
    return render(request, "newsletter/outbox_list.html", {"mails": outbox_list()})


@admin_required
def outbox_mail(request: HttpRequest, name: str) -> HttpResponse:
    """Show one mail of the local outbox: its HTML and its text part."""
    mail = outbox_read(name)
    if mail is None:
        raise Http404
    return render(request, "newsletter/outbox_mail.html", {"mail": mail})


# Public subscription pages. GET and HEAD never change anything (mail scanners
# fetch every link); each page shows a button, and only its POST acts.
ConsentSource = ConsentRecord.Source
READER_METHODS = ["GET", "HEAD", "POST"]


def _client(request: HttpRequest) -> str:
    """Return the client address; it is only ever stored as a keyed hash."""
    return request.META.get("REMOTE_ADDR", "")


def _masked(address: str) -> str:
    """Return ``address`` with the local part hidden, for pages a forward may reach."""
    local, _, domain = address.rpartition("@")
    return f"{local[:1]}•••@{domain}" if local else "•••"


def _subscribe_path() -> str:
    return reverse("public:subscribe")


def _invalid_link(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "newsletter/public/link_invalid.html",
        {"subscribe_url": _subscribe_path()},
        status=404,
    )


@never_cache
@require_http_methods(READER_METHODS)
def subscribe(request: HttpRequest) -> HttpResponse:
    """Show the subscribe form; on POST, ask for a confirmation and answer neutrally.

    The answer is the same page, byte for byte, whether the address is new,
    known, subscribed, rate-limited or a bot's: it reveals nothing.
    """
    if request.method == "POST":
        form = SubscribeForm(request.POST)
        if form.is_valid():
            if not form.is_bot:
                subscription_request(
                    email=form.cleaned_data["email"],
                    mailing_list=form.cleaned_data["mailing_list"],
                    language=form.cleaned_data["language"],
                    first_name=form.cleaned_data["first_name"],
                    tracking=form.cleaned_data["tracking"],
                    client=_client(request),
                    wording=str(SUBSCRIBE_WORDING),
                )
            return render(request, "newsletter/public/subscribe_done.html")
    else:
        public = MailingList.objects.filter(is_public=True)
        chosen = public.filter(slug=request.GET.get("list", "")).first()
        if chosen is None and len(public[:2]) == 1:
            chosen = public.first()
        form = SubscribeForm(
            initial={
                "language": translation.get_language(),
                "mailing_list": chosen.slug if chosen else None,
            }
        )
    return render(
        request,
        "newsletter/public/subscribe.html",
        {
            "form": form,
            "has_lists": form.fields["mailing_list"].queryset.exists(),
            "subscribe_wording": SUBSCRIBE_WORDING,
        },
    )


@never_cache
@require_http_methods(READER_METHODS)
def subscribe_confirm(request: HttpRequest, token: str) -> HttpResponse:
    """Show a button that confirms a subscription; the POST confirms it, once."""
    subscription = pending_confirmation(token=token)
    if subscription is None:
        return _invalid_link(request)
    tracking = confirm_tracking_requested(token, request.GET.get("tracking", ""))
    language = translation.get_language()
    if request.method == "POST":
        subscription = subscription_confirm_token(
            token=token,
            language=language,
            client=_client(request),
            wording=str(CONFIRM_WORDING),
            tracking=tracking,
            tracking_wording=str(TRACKING_WORDING),
        )
        if subscription is None:
            return _invalid_link(request)
        return render(
            request,
            "newsletter/public/confirm_done.html",
            {
                "list_name": subscription.mailing_list.name,
                "preferences_url": reverse(
                    "public:preferences",
                    args=[subscription.contact.preferences_token],
                ),
            },
        )
    return render(
        request,
        "newsletter/public/confirm.html",
        {
            "list_name": subscription.mailing_list.name,
            "address": _masked(subscription.contact.email),
            "tracking": tracking,
            "confirm_wording": CONFIRM_WORDING,
        },
    )


@never_cache
@require_http_methods(READER_METHODS)
def preferences(request: HttpRequest, token: str) -> HttpResponse:
    """Show the reader's preferences; the POST saves them, or unsubscribes from everything."""
    contact = contact_for_preferences_token(token)
    if contact is None:
        raise Http404
    language = translation.get_language()
    if request.method == "POST" and request.POST.get("action") == "unsubscribe_all":
        contact_unsubscribe_all(
            contact=contact,
            source=ConsentSource.PREFERENCES,
            wording=str(UNSUBSCRIBE_ALL_WORDING),
            language=language,
            client=_client(request),
        )
        return render(
            request, "newsletter/public/unsubscribe_done.html", {"everything": True}
        )
    choices = list_choices_for(contact=contact)
    form = PreferencesForm(
        request.POST if request.method == "POST" else None,
        contact=contact,
        manageable=choices.manageable,
        subscribed=choices.subscribed,
        can_subscribe=choices.can_subscribe,
    )
    if request.method == "POST" and form.is_valid():
        contact = contact_preferences_save(
            contact=contact,
            preferred_language=form.cleaned_data["preferred_language"],
            fallback_languages=form.fallback_languages(),
            topics=list(form.cleaned_data["topics"]),
            lists=list(form.cleaned_data["lists"]),
            tracking=form.cleaned_data["tracking"],
            lists_wording=str(LISTS_WORDING),
            tracking_wording=str(TRACKING_WORDING),
            language=language,
            client=_client(request),
        )
        # Show the saved page in the language the reader just chose.
        with translation.override(contact.preferred_language):
            target = reverse("public:preferences", args=[token])
        return redirect(target + "?saved=1")
    return render(
        request,
        "newsletter/public/preferences.html",
        {
            "form": form,
            "address": _masked(contact.email),
            "saved": request.GET.get("saved") == "1",
            "can_subscribe": choices.can_subscribe,
            "unsubscribed": contact.status == Contact.Status.UNSUBSCRIBED,
            "subscribe_url": _subscribe_path(),
            "unsubscribe_all_wording": UNSUBSCRIBE_ALL_WORDING,
        },
    )


# The token in the address is the reader's authority. RFC 8058 forbids
# cookies on the one-click POST, and mail programs' web views often drop them:
# withdrawing consent must not fail on CSRF.
@csrf_exempt
@never_cache
@require_http_methods(READER_METHODS)
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """Offer to unsubscribe from the mail's list or from everything; the POST does it.

    This is also the RFC 8058 one-click target: a POST of
    ``List-Unsubscribe=One-Click`` unsubscribes from the mail's list and
    answers 200, never a redirect. Every POST is idempotent; GET and HEAD
    change nothing.
    """
    delivery = delivery_for_token(token)
    if delivery is None:
        raise Http404
    if request.method == "POST":
        if _is_one_click(request):
            return _unsubscribe_act(request, delivery, everything=False, one_click=True)
        action = request.POST.get("action")
        if action in ("list", "all"):
            return _unsubscribe_act(request, delivery, everything=action == "all")
        return _unsubscribe_page(request, delivery, status=400)
    return _unsubscribe_page(request, delivery)


def _is_one_click(request: HttpRequest) -> bool:
    """Return whether the POST body is RFC 8058's ``List-Unsubscribe=One-Click``.

    Read in either encoding the RFC allows, and as raw text for senders that
    leave out the content type.
    """
    if request.content_type in (
        "multipart/form-data",
        "application/x-www-form-urlencoded",
    ):
        return request.POST.get("List-Unsubscribe") == "One-Click"
    return b"List-Unsubscribe=One-Click" in request.body[:200]


def _unsubscribe_page(
    request: HttpRequest, delivery: Delivery, *, status: int = 200
) -> HttpResponse:
    name = delivery.campaign.mailing_list.name
    return render(
        request,
        "newsletter/public/unsubscribe.html",
        {
            "list_name": name,
            "preferences_url": reverse(
                "public:preferences", args=[delivery.contact.preferences_token]
            ),
            "unsubscribe_list_wording": UNSUBSCRIBE_LIST_WORDING % {"list": name},
            "unsubscribe_all_wording": UNSUBSCRIBE_ALL_WORDING,
        },
        status=status,
    )


def _unsubscribe_act(
    request: HttpRequest,
    delivery: Delivery,
    *,
    everything: bool,
    one_click: bool = False,
) -> HttpResponse:
    language = translation.get_language()
    mailing_list = delivery.campaign.mailing_list
    if everything:
        contact_unsubscribe_all(
            contact=delivery.contact,
            source=ConsentSource.UNSUBSCRIBE_PAGE,
            wording=str(UNSUBSCRIBE_ALL_WORDING),
            language=language,
            client=_client(request),
        )
    else:
        subscription_unsubscribe(
            contact=delivery.contact,
            mailing_list=mailing_list,
            source=(
                ConsentSource.ONE_CLICK if one_click else ConsentSource.UNSUBSCRIBE_PAGE
            ),
            # The one-click POST is made by a mail program: no words were shown.
            wording=(
                "List-Unsubscribe=One-Click"
                if one_click
                else UNSUBSCRIBE_LIST_WORDING % {"list": mailing_list.name}
            ),
            language=language,
            client=_client(request),
        )
    return render(
        request,
        "newsletter/public/unsubscribe_done.html",
        {
            "everything": everything,
            "list_name": mailing_list.name,
            "preferences_url": ""
            if one_click
            else reverse(
                "public:preferences", args=[delivery.contact.preferences_token]
            ),
        },
    )

"""Public endpoints of the newsletter engine, and the local outbox viewer."""

from __future__ import annotations

import base64
from dataclasses import dataclass

from django.conf import settings
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
from wagtail.models import Locale, Page

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
from newsletter.audience.selection import reader_lists
from newsletter.forms import (
    CONFIRM_WORDING,
    LISTS_WORDING,
    SUBSCRIBE_WORDING,
    TRACKING_WORDING,
    UNSUBSCRIBE_ALL_WORDING,
    UNSUBSCRIBE_LIST_WORDING,
    ForwardForm,
    PreferencesForm,
    SubscribeForm,
)
from newsletter.models import ConsentRecord, Contact, Delivery, MailingList, Referral
from newsletter.sending.forwards import ForwardRefused, forward_request
from newsletter.sending.outbox import outbox_list, outbox_read
from newsletter.sending.passon import forward_url
from newsletter.tracking.events import click_record_for_token, open_record_for_token
from newsletter.tracking.referrals import (
    VISITOR_COOKIE,
    VISITOR_COOKIE_AGE,
    forward_open_record,
    forward_opt_out,
    forward_recipient_for_token,
    mp_delivery_for_token,
    new_visitor_cookie,
    referral_get,
    shared_referral_for_token,
    shared_url,
    visit_record,
    visit_verdict,
)
from newsletter.tracking.tokens import (
    TOKEN_PATTERN,
    confirm_tracking_requested,
    contact_for_preferences_token,
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
        token=token, user_agent=_user_agent(request), client=_client(request)
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
    url = click_record_for_token(
        token=token, link_id=link_id, user_agent=_user_agent(request)
    )
    if url is None:
        return _not_found(request)
    return HttpResponseRedirect(url)


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


def _user_agent(request: HttpRequest) -> str:
    """Return the request's User-Agent (``request.headers`` builds a dict of all of them)."""
    return request.META.get("HTTP_USER_AGENT", "")


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


def _lists_name(lists: list[MailingList], delivery: Delivery) -> str:
    """Return the names of the lists a reader leaves, or the campaign's name."""
    return ", ".join(item.name for item in lists) or delivery.campaign.name


def _unsubscribe_page(
    request: HttpRequest, delivery: Delivery, *, status: int = 200
) -> HttpResponse:
    name = _lists_name(reader_lists(delivery.campaign, delivery.contact), delivery)
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
    lists = reader_lists(delivery.campaign, delivery.contact)
    # Reached through a segment only: no list to leave, so leaving "this list"
    # means leaving all mail (a segment selects from the whole directory).
    everything = everything or not lists
    if everything:
        contact_unsubscribe_all(
            contact=delivery.contact,
            source=ConsentSource.UNSUBSCRIBE_PAGE,
            wording=str(UNSUBSCRIBE_ALL_WORDING),
            language=language,
            client=_client(request),
        )
    for mailing_list in lists if not everything else []:
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
            "list_name": _lists_name(lists, delivery),
            "preferences_url": ""
            if one_click
            else reverse(
                "public:preferences", args=[delivery.contact.preferences_token]
            ),
        },
    )


# Indirect reach: MPs pass packs on (docs/reach.md).


def _translation_in(page: Page, language: str) -> Page | None:
    """Return the live translation of ``page`` in ``language``, else its live source, else None."""
    locale = Locale.objects.filter(language_code=language).first()
    found = page.get_translation_or_none(locale) if locale else None
    if found is not None and found.live:
        return found.specific
    return page.specific if page.live else None


@dataclass(frozen=True)
class PassOn:
    """What an MP's own web version shows them, besides the page: their links."""

    shared_url: str
    forward_url: str
    qr_token: str


@never_cache
@require_http_methods(["GET", "HEAD"])
def read(request: HttpRequest, token: str) -> HttpResponse:
    """Show an MP their pack's web version with their shared link and forward link.

    Only an MP's delivery token opens it; anything else gets a plain 404. The
    shared-link and QR referrals are made here on first use (idempotent
    bookkeeping; nothing the reader set changes).
    """
    delivery = mp_delivery_for_token(token)
    page = (
        _translation_in(delivery.campaign.page, delivery.language) if delivery else None
    )
    if delivery is None or page is None:
        raise Http404
    link = referral_get(delivery=delivery, kind=Referral.Kind.LINK)
    qr = referral_get(delivery=delivery, kind=Referral.Kind.QR)
    # The page's template shows these when the request carries them
    # (cms.models.pages.ReportBackPackPage.get_context).
    request.relay_pass_on = PassOn(  # type: ignore[attr-defined]
        shared_url=shared_url(link),
        forward_url=forward_url(token, language=translation.get_language()),
        qr_token=qr.token,
    )
    response = page.serve(request)
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex"
    return response


@never_cache
@require_http_methods(READER_METHODS)
def forward(request: HttpRequest, token: str) -> HttpResponse:
    """Show an MP the forward form of their pack; the POST forwards it (CSRF-protected).

    GET and HEAD change nothing. Only an MP's delivery token opens it. A
    refused request (too many addresses, the daily limit) sends nothing.
    """
    delivery = mp_delivery_for_token(token)
    if delivery is None:
        raise Http404
    status = 200
    if request.method == "POST":
        form = ForwardForm(request.POST)
        if form.is_valid():
            try:
                forward_request(
                    delivery=delivery,
                    addresses=form.cleaned_data["addresses"],
                    note=form.cleaned_data["note"],
                    request_key=form.cleaned_data["key"],
                )
            except ForwardRefused as exc:
                form.add_error(None, str(exc))
            else:
                return render(request, "newsletter/public/forward_done.html")
        status = 400
    else:
        form = ForwardForm()
    return render(
        request,
        "newsletter/public/forward.html",
        {"form": form, "title": delivery.campaign.page.title},
        status=status,
    )


@never_cache
@require_GET
def forward_pixel(request: HttpRequest, token: str) -> HttpResponse:
    """Mark the first open of a colleague's copy, where allowed, and answer a 1x1 GIF."""
    recipient = forward_recipient_for_token(token)
    if recipient is None:
        raise Http404
    forward_open_record(
        recipient=recipient, user_agent=request.headers.get("User-Agent", "")
    )
    return HttpResponse(PIXEL_GIF, content_type="image/gif")


# Like unsubscribe: the token is the colleague's authority and RFC 8058's
# one-click POST carries no cookie.
@csrf_exempt
@never_cache
@require_http_methods(READER_METHODS)
def forward_stop(request: HttpRequest, token: str) -> HttpResponse:
    """Offer a colleague to stop forwarded copies; the POST (or RFC 8058 one-click) does it."""
    recipient = forward_recipient_for_token(token)
    if recipient is None:
        raise Http404
    if request.method == "POST":
        forward_opt_out(recipient=recipient)
        return render(request, "newsletter/public/forward_stop_done.html")
    return render(request, "newsletter/public/forward_stop.html")


@never_cache
@no_append_slash
@require_http_methods(["GET", "HEAD"])
def shared(request: HttpRequest, token: str) -> HttpResponse:
    """Count a visit of an MP's shared link or QR code and show the pack's public web version.

    A person is a random first-party cookie (only its keyed hash is stored),
    so coming back adds a visit, not a visitor. No cookie is set for machines,
    in anonymous mode, or for a browser that sends Global Privacy Control.
    """
    referral = shared_referral_for_token(token)
    delivery = referral.delivery if referral else None
    page = (
        _translation_in(delivery.campaign.page, delivery.language) if delivery else None
    )
    if page is None:
        return _not_found(request)
    verdict = visit_verdict(method=request.method or "GET", headers=request.headers)
    keep = not (
        verdict.is_machine
        or settings.RELAY_ANONYMOUS_TRACKING
        or request.headers.get("Sec-GPC") == "1"
    )
    cookie = request.COOKIES.get(VISITOR_COOKIE, "") if keep else ""
    fresh = keep and not TOKEN_PATTERN.fullmatch(cookie)
    if fresh:
        cookie = new_visitor_cookie()
    visit_record(referral=referral, cookie=cookie, verdict=verdict)
    response = HttpResponseRedirect(page.get_url(request))
    if fresh:
        response.set_cookie(
            VISITOR_COOKIE,
            cookie,
            max_age=VISITOR_COOKIE_AGE,
            path="/s/",
            secure=request.is_secure(),
            httponly=True,
            samesite="Lax",
        )
    return response

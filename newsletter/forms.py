"""Public forms: subscribe, the preference centre and the forward form.

The wording constants below are shown on the pages *and* stored with the
consent records, so what was recorded is exactly what the reader saw, in the
language they saw it in.
"""

from __future__ import annotations

import re
import secrets
from typing import Any

from django import forms
from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from newsletter.locales import language_choices
from newsletter.models import Contact, MailingList, Topic

SUBSCRIBE_WORDING = _(
    "I want to receive this newsletter by email. I can unsubscribe at any time "
    "with the link in every mail."
)
TRACKING_WORDING = _(
    "I agree that the newsletter records when I open its mails and which links I "
    "follow, to measure its reach. This is optional and separate from receiving "
    "the mails."
)
CONFIRM_WORDING = _("Yes, subscribe me")
LISTS_WORDING = _("Send me these newsletters by email")
UNSUBSCRIBE_LIST_WORDING = _("Unsubscribe from %(list)s")
UNSUBSCRIBE_ALL_WORDING = _("Unsubscribe from everything")

# A real person needs a few seconds to fill in the form; a page left open
# longer than an hour is asked to send it again (Mailman's SUBSCRIBE_FORM_MIN_TIME).
FORM_MIN_AGE = 3
FORM_MAX_AGE = 3600
_STAMP_SALT = "newsletter.subscribe.form"


def form_stamp() -> str:
    """Return a signed timestamp for a freshly shown subscribe form."""
    return signing.Signer(salt=_STAMP_SALT).sign(str(int(timezone.now().timestamp())))


def form_stamp_fresh(value: str) -> bool:
    """Return whether ``value`` is a stamp signed here, aged between the bounds."""
    try:
        issued = int(signing.Signer(salt=_STAMP_SALT).unsign(value))
    except (signing.BadSignature, ValueError):
        return False
    age = timezone.now().timestamp() - issued
    return FORM_MIN_AGE <= age <= FORM_MAX_AGE


class SubscribeForm(forms.Form):
    """Ask to subscribe to one public list, with double opt-in."""

    email = forms.EmailField(label=_("Email address"), max_length=254)
    first_name = forms.CharField(
        label=_("First name (optional)"), max_length=100, required=False
    )
    language = forms.ChoiceField(
        label=_("Language of your mails"), choices=language_choices
    )
    mailing_list = forms.ModelChoiceField(
        label=_("Newsletter"),
        queryset=MailingList.objects.filter(is_public=True),
        to_field_name="slug",
        empty_label=None,
        widget=forms.RadioSelect,
    )
    tracking = forms.BooleanField(label=TRACKING_WORDING, required=False)
    # Honeypot: hidden from people, filled in by naive bots.
    website = forms.CharField(
        label=_("Leave this field empty"),
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )
    stamp = forms.CharField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial["stamp"] = form_stamp()

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if not form_stamp_fresh(cleaned.get("stamp", "")):
            # Show a fresh form: the stamp of the next attempt starts now.
            data = self.data.copy()
            data["stamp"] = form_stamp()
            self.data = data
            raise forms.ValidationError(
                _(
                    "This form was sent too quickly or has expired. Please check "
                    "your details and send it again."
                ),
                code="stamp",
            )
        return cleaned

    @property
    def is_bot(self) -> bool:
        """Return whether the honeypot was filled in."""
        return bool(self.cleaned_data.get("website"))


class PreferencesForm(forms.Form):
    """A reader's own settings: languages, topics, lists and tracking."""

    FALLBACK_FIELDS = ("fallback_1", "fallback_2", "fallback_3")

    preferred_language = forms.ChoiceField(
        label=_("Language of your mails"), choices=language_choices
    )
    fallback_1 = forms.ChoiceField(
        label=_("If a mail is not available in that language, send it in"),
        required=False,
    )
    fallback_2 = forms.ChoiceField(label=_("Otherwise in"), required=False)
    fallback_3 = forms.ChoiceField(label=_("Otherwise in"), required=False)
    topics = forms.ModelMultipleChoiceField(
        label=_("Topics you follow"),
        queryset=Topic.objects.all(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    lists = forms.ModelMultipleChoiceField(
        label=LISTS_WORDING,
        queryset=MailingList.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    tracking = forms.BooleanField(label=TRACKING_WORDING, required=False)

    def __init__(
        self,
        *args: Any,
        contact: Contact,
        manageable: list[MailingList],
        subscribed: list[MailingList],
        can_subscribe: bool,
        **kwargs: Any,
    ) -> None:
        fallbacks = [*contact.fallback_languages, "", "", ""]
        kwargs.setdefault(
            "initial",
            {
                "preferred_language": contact.preferred_language,
                **{
                    name: fallbacks[index]
                    for index, name in enumerate(self.FALLBACK_FIELDS)
                },
                "topics": list(contact.topics.all()),
                "lists": subscribed,
                "tracking": contact.tracking_consent,
            },
        )
        super().__init__(*args, **kwargs)
        for name in self.FALLBACK_FIELDS:
            self.fields[name].choices = [("", "—"), *language_choices()]
        lists = self.fields["lists"]
        lists.queryset = MailingList.objects.filter(
            pk__in=[mailing_list.pk for mailing_list in manageable]
        )
        if not can_subscribe:
            # Coming back after unsubscribing from everything takes a new
            # double opt-in through the subscribe form.
            lists.disabled = True

    def fallback_languages(self) -> list[str]:
        """Return the chosen fallback languages in order, without repeats."""
        chosen = [self.cleaned_data[name] for name in self.FALLBACK_FIELDS]
        preferred = self.cleaned_data["preferred_language"]
        return [code for code in dict.fromkeys(chosen) if code and code != preferred]


_ADDRESS_SEPARATORS = re.compile(r"[\s,;]+")


class ForwardForm(forms.Form):
    """An MP's forward of a pack: a few colleagues' addresses and an optional note.

    ``key`` is minted when the form is shown: the same form sent twice is one
    forward (newsletter.sending.forwards.forward_request).
    """

    addresses = forms.CharField(
        label=_("Email addresses of your colleagues"),
        widget=forms.Textarea(attrs={"rows": 5, "autocomplete": "off"}),
        max_length=5000,
    )
    note = forms.CharField(
        label=_("Personal note (optional)"),
        help_text=_("Plain text; links are removed."),
        widget=forms.Textarea(attrs={"rows": 4, "maxlength": "500"}),
        max_length=500,
        required=False,
    )
    key = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        limit = settings.RELAY_FORWARD_MAX_RECIPIENTS
        self.fields["addresses"].help_text = gettext(
            "One address per line (at most %(count)d)."
        ) % {"count": limit}
        if not self.is_bound:
            self.initial["key"] = secrets.token_urlsafe(24)

    def clean_addresses(self) -> list[str]:
        """Return the addresses; refuse a list longer than the limit, or any bad address."""
        found = [
            part
            for part in _ADDRESS_SEPARATORS.split(self.cleaned_data["addresses"])
            if part
        ]
        unique = list(dict.fromkeys(address.lower() for address in found))
        if not unique:
            raise ValidationError(gettext("Give at least one address."))
        limit = settings.RELAY_FORWARD_MAX_RECIPIENTS
        if len(unique) > limit:
            raise ValidationError(
                gettext(
                    "Too many addresses: at most %(count)d per request. Nothing was sent."
                )
                % {"count": limit}
            )
        errors = []
        for address in unique:
            try:
                validate_email(address)
            except ValidationError:
                errors.append(
                    gettext("%(address)s is not a valid email address.")
                    % {"address": address}
                )
        if errors:
            raise ValidationError(errors)
        return unique

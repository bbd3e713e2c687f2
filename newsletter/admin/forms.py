"""Forms of the directory admin: contacts, segments and bulk actions."""

from __future__ import annotations

import copy
import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from wagtail.admin.forms import WagtailAdminModelForm

from newsletter.audience.consent import (
    subscription_subscribe,
    subscription_unsubscribe,
    tracking_consent_set,
)
from newsletter.audience.contacts import normalise_email
from newsletter.audience.segments import (
    MAX_DAYS,
    event_choices,
    segment_rules_validate,
)
from newsletter.locales import (
    COUNTRY_CODES,
    country_name,
    language_choices,
    language_codes,
)
from newsletter.models import (
    ConsentRecord,
    Contact,
    MailingList,
    Segment,
    Subscription,
    Topic,
)


def localised_country_choices() -> list[tuple[str, str]]:
    """Return (code, name) pairs named and sorted in the active language."""
    return sorted(
        ((code, country_name(code)) for code in COUNTRY_CODES),
        key=lambda pair: pair[1].casefold(),
    )


def parliament_choices() -> list[tuple[str, str]]:
    """Return the parliaments named in the directory, for filters."""
    names = (
        Contact.objects.exclude(parliament="")
        .order_by("parliament")
        .values_list("parliament", flat=True)
        .distinct()
    )
    return [(name, name) for name in names]


class LanguageListField(forms.CharField):
    """An ordered list of language codes, typed as "de, fr, en"."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault(
            "help_text",
            _(
                "Language codes in order of preference, separated by commas, e.g. de, fr."
            ),
        )
        super().__init__(**kwargs)

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, list):
            return ", ".join(value)
        return value

    def to_python(self, value: Any) -> list[str]:  # type: ignore[override]
        if isinstance(value, list):
            return value
        text = super().to_python(value)
        return [code for code in re.split(r"[\s,;]+", text.lower()) if code]

    def validate(self, value: Any) -> None:
        if self.required and not value:
            raise ValidationError(self.error_messages["required"], code="required")
        known = set(language_codes())
        unknown = [code for code in value if code not in known]
        if unknown:
            raise ValidationError(
                gettext("Unknown language codes: %(codes)s")
                % {"codes": ", ".join(unknown)},
                code="unknown_language",
            )
        if len(set(value)) != len(value):
            raise ValidationError(
                gettext("Give each language only once."), code="duplicate_language"
            )


class ContactAdminForm(WagtailAdminModelForm):
    """Edit a contact; lists and tracking consent change through the consent services."""

    fallback_languages = LanguageListField(
        label=_("Fallback languages"), required=False
    )
    mailing_lists = forms.ModelMultipleChoiceField(
        label=_("Subscribed to"),
        queryset=MailingList.objects.all(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Changes are recorded as consent given or withdrawn in the admin."),
    )
    consents_to_tracking = forms.BooleanField(
        label=_("Consents to tracking"),
        required=False,
        help_text=_("Opens and clicks are recorded for this person only with consent."),
    )

    class Meta:
        model = Contact
        fields = [
            "email",
            "first_name",
            "last_name",
            "kind",
            "country",
            "parliament",
            "chamber",
            "party",
            "committees",
            "organisation",
            "is_focal_point",
            "listed_as_country_contact",
            "topics",
            "preferred_language",
            "fallback_languages",
            "notes",
        ]
        widgets = {"topics": forms.CheckboxSelectMultiple}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "country" in self.fields:
            self.fields["country"].choices = [
                ("", "---------"),
                *localised_country_choices(),
            ]
        if self.instance.pk:
            self.fields["mailing_lists"].initial = list(
                MailingList.objects.filter(
                    subscriptions__contact=self.instance,
                    subscriptions__status=Subscription.Status.SUBSCRIBED,
                )
            )
            self.fields["consents_to_tracking"].initial = self.instance.tracking_consent

    def clean_email(self) -> str:
        email = normalise_email(self.cleaned_data["email"])
        clash = Contact.objects.filter(email__iexact=email)
        if self.instance.pk:
            clash = clash.exclude(pk=self.instance.pk)
        if clash.exists():
            raise ValidationError(
                gettext("Another contact already has this address."), code="unique"
            )
        return email

    def clean(self) -> dict[str, Any]:
        if self.instance.pk and self.instance.status == Contact.Status.ERASED:
            raise ValidationError(
                gettext("This contact was erased and cannot be edited."),
                code="erased",
            )
        return super().clean()

    def save(self, commit: bool = True) -> Contact:
        contact = super().save(commit=commit)
        if commit:
            self._apply_consent(contact)
        return contact

    def _apply_consent(self, contact: Contact) -> None:
        source = ConsentRecord.Source.ADMIN
        wanted = set(self.cleaned_data.get("mailing_lists") or [])
        current = set(
            MailingList.objects.filter(
                subscriptions__contact=contact,
                subscriptions__status=Subscription.Status.SUBSCRIBED,
            )
        )
        for mailing_list in sorted(wanted - current, key=lambda m: m.pk):
            subscription_subscribe(
                contact=contact, mailing_list=mailing_list, source=source
            )
        for mailing_list in sorted(current - wanted, key=lambda m: m.pk):
            subscription_unsubscribe(
                contact=contact, mailing_list=mailing_list, source=source
            )
        tracking_consent_set(
            contact=contact,
            granted=bool(self.cleaned_data.get("consents_to_tracking")),
            source=source,
        )


FOCAL_CHOICES = [
    ("", _("Any")),
    ("yes", _("Focal points only")),
    ("no", _("Not focal points")),
]


class SegmentAdminForm(WagtailAdminModelForm):
    """Build a segment's rules from allowlisted fields instead of raw JSON."""

    kind = forms.MultipleChoiceField(
        label=_("Kind"),
        choices=Contact.Kind.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    country = forms.MultipleChoiceField(
        label=_("Country"),
        choices=localised_country_choices,
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 8}),
    )
    parliament = forms.MultipleChoiceField(
        label=_("Parliament"),
        choices=parliament_choices,
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 6}),
    )
    language = forms.MultipleChoiceField(
        label=_("Preferred language"),
        choices=language_choices,
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 8}),
    )
    topics = forms.ModelMultipleChoiceField(
        label=_("Any of these topics"),
        queryset=Topic.objects.all(),
        to_field_name="slug",
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    focal_point = forms.ChoiceField(
        label=_("Focal point"), choices=FOCAL_CHOICES, required=False
    )
    status = forms.MultipleChoiceField(
        label=_("Status"),
        choices=Contact.Status.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    lists = forms.ModelMultipleChoiceField(
        label=_("Subscribed to any of these lists"),
        queryset=MailingList.objects.all(),
        to_field_name="slug",
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    events = forms.MultipleChoiceField(
        label=_("Took part in any of these events"),
        choices=event_choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    opened_within_days = forms.IntegerField(
        label=_("Opened a mail in the last … days"),
        min_value=1,
        max_value=MAX_DAYS,
        required=False,
        help_text=_("Human opens only; machine opens are not counted."),
    )
    clicked_within_days = forms.IntegerField(
        label=_("Clicked a link in the last … days"),
        min_value=1,
        max_value=MAX_DAYS,
        required=False,
    )

    RULE_FIELDS = [
        "kind",
        "country",
        "parliament",
        "language",
        "topics",
        "focal_point",
        "status",
        "lists",
        "events",
        "opened_within_days",
        "clicked_within_days",
    ]

    class Meta:
        model = Segment
        fields = ["name", "description"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound and self.instance.pk:
            for name, value in rules_to_initial(self.instance.rules).items():
                self.fields[name].initial = value

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        rules = rules_from_cleaned(cleaned)
        try:
            segment_rules_validate(rules)
        except ValidationError as error:
            raise ValidationError(error.messages) from error
        self.instance.rules = rules
        return cleaned


def rules_from_cleaned(cleaned: dict[str, Any]) -> dict[str, Any]:
    """Return segment rules from the cleaned data of a SegmentAdminForm."""
    conditions: list[dict[str, Any]] = []

    def add(field: str, op: str, value: Any) -> None:
        conditions.append({"field": field, "op": op, "value": value})

    for name in ("kind", "country", "parliament", "language", "status"):
        if cleaned.get(name):
            add(name, "in", list(cleaned[name]))
    if cleaned.get("topics"):
        add("topics", "any", [topic.slug for topic in cleaned["topics"]])
    if cleaned.get("lists"):
        add("lists", "any", [item.slug for item in cleaned["lists"]])
    if cleaned.get("events"):
        add("events", "any", list(cleaned["events"]))
    if cleaned.get("focal_point") in ("yes", "no"):
        add("is_focal_point", "is", cleaned["focal_point"] == "yes")
    if cleaned.get("opened_within_days"):
        add("opened", "within_days", cleaned["opened_within_days"])
    if cleaned.get("clicked_within_days"):
        add("clicked", "within_days", cleaned["clicked_within_days"])
    return {"conditions": conditions}


def rules_to_initial(rules: Any) -> dict[str, Any]:
    """Return SegmentAdminForm initial data for stored ``rules`` (invalid rules give none)."""
    try:
        conditions = segment_rules_validate(rules)
    except ValidationError:
        return {}
    initial: dict[str, Any] = {}
    for condition in conditions:
        if condition.field == "is_focal_point":
            initial["focal_point"] = "yes" if condition.value else "no"
        elif condition.field in ("opened", "clicked"):
            initial[f"{condition.field}_within_days"] = condition.value
        else:
            initial[condition.field] = condition.value
    return initial


class SegmentRulesForm(forms.Form):
    """The rule fields of SegmentAdminForm alone, for the live count."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in SegmentAdminForm.RULE_FIELDS:
            self.fields[name] = copy.deepcopy(SegmentAdminForm.base_fields[name])


class AddToListForm(forms.Form):
    mailing_list = forms.ModelChoiceField(
        label=_("Mailing list"), queryset=MailingList.objects.all()
    )


class SetLanguageForm(forms.Form):
    language = forms.ChoiceField(
        label=_("Preferred language"), choices=language_choices
    )


class ExportForm(forms.Form):
    file_format = forms.ChoiceField(
        label=_("Format"),
        choices=[("csv", "CSV"), ("xlsx", "Excel (XLSX)")],
    )

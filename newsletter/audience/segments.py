"""Segments: saved filters over the directory, built only from allowlisted ORM filters.

A segment's rules are JSON of this shape (every condition must hold)::

    {
        "conditions": [
            {"field": "kind", "op": "in", "value": ["mp", "mep"]},
            {"field": "country", "op": "in", "value": ["DE", "PL"]},
            {"field": "topics", "op": "any", "value": ["child-trafficking"]},
            {"field": "is_focal_point", "op": "is", "value": True},
            {"field": "events", "op": "any", "value": ["42"]},
            {"field": "opened", "op": "within_days", "value": 90},
        ]
    }

Field names and operators come only from ``FIELDS``; values are type-checked and
bounded, then passed to the ORM as lookup values. Nothing from the rules ever
names a column or reaches SQL as text, so hostile rule blobs can only produce a
``ValidationError`` (reliability check 30).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext

from newsletter.locales import COUNTRY_CODES, country_name, language_codes
from newsletter.models import (
    Contact,
    MailingList,
    Segment,
    Subscription,
    Topic,
    TrackingEvent,
)

MAX_CONDITIONS = 30
MAX_VALUES = 200
MAX_TEXT = 200
MAX_DAYS = 3650

Filter = Q | Exists


@dataclass(frozen=True)
class Condition:
    field: str
    op: str
    value: Any


@dataclass(frozen=True)
class SegmentCounts:
    total: int
    by_country: list[tuple[str, str, int]]  # (code, localised name, count)
    by_language: list[tuple[str, int]]

    def as_json(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "by_country": [
                {"code": code, "name": name, "count": count}
                for code, name, count in self.by_country
            ],
            "by_language": [
                {"code": code, "count": count} for code, count in self.by_language
            ],
        }


def _clean_text(item: Any) -> bool:
    # Control characters (NUL above all) are refused: PostgreSQL rejects NUL.
    return (
        isinstance(item, str)
        and 0 < len(item) <= MAX_TEXT
        and not any(ord(char) < 32 for char in item)
    )


def _strings(value: Any, *, field: str) -> list[str]:
    if (
        not isinstance(value, list)
        or not value
        or len(value) > MAX_VALUES
        or not all(_clean_text(item) for item in value)
    ):
        raise ValidationError(
            gettext("“%(field)s” needs a list of up to %(max)d non-empty texts.")
            % {"field": field, "max": MAX_VALUES},
            code="invalid_value",
        )
    return list(dict.fromkeys(value))


def _choices(allowed: Callable[[], list[str]]) -> Callable[[Any, str], list[str]]:
    def check(value: Any, field: str) -> list[str]:
        items = _strings(value, field=field)
        known = set(allowed())
        unknown = [item for item in items if item not in known]
        if unknown:
            raise ValidationError(
                gettext("Unknown values for “%(field)s”: %(values)s")
                % {"field": field, "values": ", ".join(unknown[:10])},
                code="unknown_value",
            )
        return items

    return check


def _texts(value: Any, field: str) -> list[str]:
    return _strings(value, field=field)


def _boolean(value: Any, field: str) -> bool:
    if not isinstance(value, bool):
        raise ValidationError(
            gettext("“%(field)s” needs true or false.") % {"field": field},
            code="invalid_value",
        )
    return value


def _days(value: Any, field: str) -> int:
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or not 1 <= value <= MAX_DAYS
    ):
        raise ValidationError(
            gettext("“%(field)s” needs a number of days from 1 to %(max)d.")
            % {"field": field, "max": MAX_DAYS},
            code="invalid_value",
        )
    return value


def _engaged(kind: str, days: int) -> Exists:
    since = timezone.now() - timedelta(days=days)
    return Exists(
        TrackingEvent.objects.filter(
            delivery__contact=OuterRef("pk"),
            kind=kind,
            is_machine=False,
            occurred_at__gte=since,
        )
    )


def _topics(slugs: list[str]) -> Exists:
    return Exists(
        Contact.topics.through.objects.filter(
            contact_id=OuterRef("pk"), topic__slug__in=slugs
        )
    )


def _lists(slugs: list[str]) -> Exists:
    return Exists(
        Subscription.objects.filter(
            contact_id=OuterRef("pk"),
            mailing_list__slug__in=slugs,
            status=Subscription.Status.SUBSCRIBED,
        )
    )


def _events_relation() -> Any:
    """Return the event pages contacts take part in, or None without the content side.

    The relation (``Contact.events``) is declared by the content side's event
    pages; newsletter only follows it and never imports them.
    """
    try:
        return Contact._meta.get_field("events").related_model
    except FieldDoesNotExist:
        return None


def event_choices() -> list[tuple[str, str]]:
    """Return (id, title) of every event in the source language, newest first."""
    model = _events_relation()
    if model is None:
        return []
    events = model.objects.filter(locale__language_code=settings.LANGUAGE_CODE)
    return [
        (str(pk), title)
        for pk, title in events.order_by("-pk").values_list("pk", "title")
    ]


def _attended(ids: list[str]) -> Q:
    # Any translation of a chosen event counts: participants are synchronised.
    keys = (
        _events_relation()
        .objects.filter(pk__in=[int(i) for i in ids])
        .values("translation_key")
    )
    return Q(
        pk__in=Contact.objects.filter(events__translation_key__in=keys).values("pk")
    )


# field → op → (value check, filter builder). The only door from rules to SQL.
FIELDS: dict[
    str, dict[str, tuple[Callable[[Any, str], Any], Callable[[Any], Filter]]]
] = {
    "kind": {
        "in": (
            _choices(lambda: list(Contact.Kind.values)),
            lambda v: Q(kind__in=v),
        )
    },
    "country": {
        "in": (_choices(lambda: list(COUNTRY_CODES)), lambda v: Q(country__in=v))
    },
    "parliament": {"in": (_texts, lambda v: Q(parliament__in=v))},
    "language": {
        "in": (_choices(language_codes), lambda v: Q(preferred_language__in=v))
    },
    "topics": {
        "any": (
            _choices(lambda: list(Topic.objects.values_list("slug", flat=True))),
            _topics,
        )
    },
    "is_focal_point": {"is": (_boolean, lambda v: Q(is_focal_point=v))},
    "status": {
        "in": (_choices(lambda: list(Contact.Status.values)), lambda v: Q(status__in=v))
    },
    "lists": {
        "any": (
            _choices(lambda: list(MailingList.objects.values_list("slug", flat=True))),
            _lists,
        )
    },
    "events": {"any": (_choices(lambda: [pk for pk, _ in event_choices()]), _attended)},
    "opened": {
        "within_days": (_days, lambda v: _engaged(TrackingEvent.Kind.OPENED, v))
    },
    "clicked": {
        "within_days": (_days, lambda v: _engaged(TrackingEvent.Kind.CLICKED, v))
    },
}


def segment_rules_validate(rules: Any) -> list[Condition]:
    """Return the conditions of ``rules``, or raise ValidationError saying what is wrong."""
    if rules in (None, {}):
        return []
    if not isinstance(rules, dict) or set(rules) - {"conditions"}:
        raise ValidationError(
            gettext("Rules must be an object with a “conditions” list."),
            code="invalid_rules",
        )
    raw = rules.get("conditions", [])
    if not isinstance(raw, list) or len(raw) > MAX_CONDITIONS:
        raise ValidationError(
            gettext("“conditions” must be a list of at most %(max)d conditions.")
            % {"max": MAX_CONDITIONS},
            code="invalid_rules",
        )
    conditions: list[Condition] = []
    errors: list[ValidationError] = []
    for item in raw:
        if not isinstance(item, dict) or set(item) != {"field", "op", "value"}:
            errors.append(
                ValidationError(
                    gettext(
                        "Each condition needs exactly a “field”, an “op” and a “value”."
                    ),
                    code="invalid_condition",
                )
            )
            continue
        field, op, value = item["field"], item["op"], item["value"]
        if not isinstance(field, str) or field not in FIELDS:
            errors.append(
                ValidationError(
                    gettext("Unknown field: %(field)s") % {"field": str(field)[:50]},
                    code="unknown_field",
                )
            )
            continue
        if not isinstance(op, str) or op not in FIELDS[field]:
            errors.append(
                ValidationError(
                    gettext("Unknown operator for “%(field)s”: %(op)s")
                    % {"field": field, "op": str(op)[:50]},
                    code="unknown_operator",
                )
            )
            continue
        check, _build = FIELDS[field][op]
        try:
            conditions.append(Condition(field=field, op=op, value=check(value, field)))
        except ValidationError as error:
            errors.append(error)
    if errors:
        raise ValidationError(errors)
    return conditions


def segment_filters(rules: Any) -> list[Filter]:
    """Return the ORM filters of validated ``rules``; raise ValidationError if invalid."""
    return [FIELDS[c.field][c.op][1](c.value) for c in segment_rules_validate(rules)]


def segment_rules_contacts(rules: Any) -> QuerySet[Contact]:
    """Return the contacts matching ``rules``; erased contacts are never an audience."""
    return (
        Contact.objects.exclude(status=Contact.Status.ERASED)
        .filter(*segment_filters(rules))
        .order_by("pk")
    )


def segment_contacts(segment: Segment) -> QuerySet[Contact]:
    """Return the contacts of ``segment``."""
    return segment_rules_contacts(segment.rules)


def segment_counts(rules: Any) -> SegmentCounts:
    """Return the size of the audience of ``rules``, by country and by language."""
    contacts = segment_rules_contacts(rules)
    by_country = [
        (code, country_name(code) if code else "", count)
        for code, count in contacts.order_by()
        .values_list("country")
        .annotate(n=Count("pk"))
        .order_by("-n", "country")
    ]
    by_language = list(
        contacts.order_by()
        .values_list("preferred_language")
        .annotate(n=Count("pk"))
        .order_by("-n", "preferred_language")
    )
    return SegmentCounts(
        total=sum(count for _code, _name, count in by_country),
        by_country=by_country,
        by_language=by_language,
    )

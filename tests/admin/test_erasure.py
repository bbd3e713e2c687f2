"""Done-when: after erasure the address and name are nowhere; reach figures unchanged."""

from __future__ import annotations

import json
from typing import Any

from django.apps import apps
from django.db import connection, models
from django.db.models import Count
from django.urls import reverse
from wagtail.models import ModelLogEntry

from newsletter.audience.consent import subscription_subscribe, tracking_consent_set
from newsletter.models import ConsentRecord, Contact, Delivery
from newsletter.reach.metrics import campaign_summary
from tests.factories import ContactFactory, MailingListFactory, TopicFactory

EMAIL = "Zofia.Kowalska-Erasetest@Sejm.example.pl"
FIRST = "Zofiaerasetest"
LAST = "Kowalskaerasetest"
NEEDLES = [EMAIL, FIRST, LAST]

TEXT_FIELDS = (models.CharField, models.TextField, models.JSONField)


def _as_text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="ignore")
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, default=str)


def _contains(text: str, needle: str) -> bool:
    text = text.casefold()
    escaped = json.dumps(needle)[1:-1]  # how a JSON column may store it
    return needle.casefold() in text or escaped.casefold() in text


def model_occurrences() -> set[str]:
    """Scan every text, char and JSON column of every model, row by row."""
    tables = set(connection.introspection.table_names())
    found: set[str] = set()
    for model in apps.get_models(include_auto_created=True):
        if model._meta.proxy or model._meta.db_table not in tables:
            continue
        fields = [f for f in model._meta.concrete_fields if isinstance(f, TEXT_FIELDS)]
        if not fields:
            continue
        names = [f.attname for f in fields]
        for row in model._base_manager.values_list(*names).iterator():
            for name, value in zip(names, row, strict=True):
                for needle in NEEDLES:
                    if value is not None and _contains(_as_text(value), needle):
                        found.add(f"{model._meta.label}.{name}")
    return found


def table_occurrences() -> set[str]:
    """Scan every column of every table, including ones no model describes."""
    found: set[str] = set()
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            columns = [column[0] for column in cursor.description]
            for row in cursor.fetchall():
                for column, value in zip(columns, row, strict=True):
                    if value is None or isinstance(value, (int, float)):
                        continue
                    for needle in NEEDLES:
                        if _contains(_as_text(value), needle):
                            found.add(f"{table}.{column}")
    return found


def reach_figures(campaign_id: int) -> dict[str, Any]:
    sent = Delivery.objects.filter(status=Delivery.Status.SENT)
    return {
        "summary": campaign_summary(campaign_id=campaign_id),
        "by_kind": dict(
            sent.values_list("contact__kind").annotate(n=Count("pk")).order_by()
        ),
        "by_country": dict(
            sent.values_list("contact__country").annotate(n=Count("pk")).order_by()
        ),
        "by_delivery_country": dict(
            sent.values_list("country").annotate(n=Count("pk")).order_by()
        ),
    }


def test_after_erasure_address_and_name_are_nowhere_and_reach_is_unchanged(
    secretariat_client, send_campaign
) -> None:
    mailing_list = MailingListFactory()
    contact = ContactFactory(
        email=EMAIL,
        first_name=FIRST,
        last_name=LAST,
        kind=Contact.Kind.MP,
        country="PL",
        preferred_language="pl",
        fallback_languages=["en"],
        parliament="Sejm",
        party="Party of " + LAST,
        committees="Justice",
        organisation="Office of " + FIRST,
        notes=f"Met {FIRST} {LAST} in Warsaw; write to {EMAIL}.",
        tracking_consent=False,
    )
    contact.topics.add(TopicFactory())
    subscription_subscribe(
        contact=contact,
        mailing_list=mailing_list,
        source=ConsentRecord.Source.FORM,
        wording="Yes, send me the newsletter.",
        language="pl",
        client="192.0.2.10",
    )
    tracking_consent_set(
        contact=contact, granted=True, source=ConsentRecord.Source.FORM
    )
    others = [
        ContactFactory(kind=Contact.Kind.NGO, country="RO"),
        ContactFactory(kind=Contact.Kind.MP, country="DE"),
    ]
    campaign = send_campaign([contact, *others], opened=[contact, others[0]])
    bounced = send_campaign([contact, others[1]])
    Delivery.objects.filter(campaign=bounced, contact=contact).update(
        status=Delivery.Status.FAILED,
        reason=f"550 5.1.1 <{EMAIL.lower()}>: recipient unknown",
    )

    # An edit in the admin leaves a log entry labelled with name and address.
    edit_url = reverse(Contact.snippet_viewset.get_url_name("edit"), args=[contact.pk])
    form = secretariat_client.get(edit_url).context["form"]
    data = {
        name: value
        for name, value in form.initial.items()
        if value is not None and name not in ("topics", "mailing_lists")
    }
    data.update(
        email=EMAIL,
        fallback_languages="en",
        committees="Justice, Human rights",
        mailing_lists=[mailing_list.pk],
        consents_to_tracking="on",
    )
    response = secretariat_client.post(edit_url, data)
    assert response.status_code == 302
    assert ModelLogEntry.objects.filter(
        object_id=str(contact.pk), action="wagtail.edit", label__contains=FIRST
    ).exists()

    before = reach_figures(campaign.pk)
    before_bounced = reach_figures(bounced.pk)
    # The scans can fail: they see the data where it is before erasure.
    assert {
        "newsletter.Contact.email",
        "newsletter.Contact.first_name",
        "wagtailcore.ModelLogEntry.label",
        "newsletter.Delivery.reason",
    } <= model_occurrences()
    assert table_occurrences()

    response = secretariat_client.post(
        reverse(Contact.snippet_viewset.get_url_name("erase"), args=[contact.pk])
    )

    assert response.status_code == 302
    assert model_occurrences() == set()
    assert table_occurrences() == set()
    assert reach_figures(campaign.pk) == before
    assert reach_figures(bounced.pk) == before_bounced
    contact.refresh_from_db()
    assert contact.status == Contact.Status.ERASED
    assert (contact.kind, contact.country) == (Contact.Kind.MP, "PL")

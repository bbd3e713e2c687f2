"""Segments: allowlisted rules built with the ORM, live counts, hostile input."""

from __future__ import annotations

import json
import random

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from newsletter.audience.segments import (
    segment_contacts,
    segment_counts,
    segment_rules_validate,
)
from newsletter.models import Contact, Segment
from tests.factories import ContactFactory, MailingListFactory, TopicFactory


def rules(*conditions: tuple[str, str, object]) -> dict[str, object]:
    return {
        "conditions": [
            {"field": field, "op": op, "value": value}
            for field, op, value in conditions
        ]
    }


@pytest.fixture
def people(db, send_campaign) -> dict[str, Contact]:
    network = MailingListFactory(slug="network")
    child = TopicFactory(name="Child trafficking", slug="child")
    anna = ContactFactory(
        email="anna@example.de",
        kind=Contact.Kind.MP,
        country="DE",
        parliament="Bundestag",
        preferred_language="de",
        is_focal_point=True,
        subscribed_to=[network],
    )
    anna.topics.add(child)
    ion = ContactFactory(
        email="ion@example.ro",
        kind=Contact.Kind.MP,
        country="RO",
        parliament="Senatul României",
        preferred_language="ro",
    )
    ngo = ContactFactory(
        email="ngo@example.org",
        kind=Contact.Kind.NGO,
        country="DE",
        preferred_language="en",
    )
    erased = ContactFactory(
        email="gone@example.org", kind=Contact.Kind.MP, status=Contact.Status.ERASED
    )
    send_campaign([anna, ion, ngo], opened=[anna], clicked=[ion], days_ago=10)
    return {"anna": anna, "ion": ion, "ngo": ngo, "erased": erased}


def emails(segment_rules: dict[str, object]) -> set[str]:
    segment = Segment(name="s", rules=segment_rules)
    return set(segment_contacts(segment).values_list("email", flat=True))


@pytest.mark.parametrize(
    ("conditions", "expected"),
    [
        ((), {"anna@example.de", "ion@example.ro", "ngo@example.org"}),
        ((("kind", "in", ["mp"]),), {"anna@example.de", "ion@example.ro"}),
        ((("country", "in", ["RO"]),), {"ion@example.ro"}),
        ((("parliament", "in", ["Bundestag"]),), {"anna@example.de"}),
        ((("language", "in", ["en", "ro"]),), {"ion@example.ro", "ngo@example.org"}),
        ((("topics", "any", ["child"]),), {"anna@example.de"}),
        ((("is_focal_point", "is", False),), {"ion@example.ro", "ngo@example.org"}),
        ((("lists", "any", ["network"]),), {"anna@example.de"}),
        (
            (("status", "in", ["active"]),),
            {"anna@example.de", "ion@example.ro", "ngo@example.org"},
        ),
        ((("opened", "within_days", 30),), {"anna@example.de"}),
        ((("opened", "within_days", 5),), set()),
        ((("clicked", "within_days", 30),), {"ion@example.ro"}),
        ((("kind", "in", ["mp"]), ("country", "in", ["DE"])), {"anna@example.de"}),
    ],
)
def test_rules_select_contacts(people, conditions, expected) -> None:
    assert emails(rules(*conditions)) == expected


def test_machine_opens_are_not_engagement(people) -> None:
    # Every delivery in the fixture has a machine open; only Anna opened herself.
    assert emails(rules(("opened", "within_days", 365))) == {"anna@example.de"}


@pytest.mark.parametrize(
    "bad",
    [
        [],
        "kind = 'mp'",
        {"conditions": "x"},
        {"conditions": [], "extra": 1},
        rules(("email", "in", ["x"])),
        rules(("kind", "contains", ["mp"])),
        rules(("kind", "in", "mp")),
        rules(("kind", "in", ["senator"])),
        rules(("country", "in", ["ZZ"])),
        rules(("topics", "any", ["no-such-topic"])),
        rules(("is_focal_point", "is", "yes")),
        rules(("opened", "within_days", 0)),
        rules(("opened", "within_days", True)),
        rules(("parliament", "in", ["Sejm\x00"])),
        {"conditions": [{"field": "kind", "op": "in"}]},
    ],
)
def test_invalid_rules_get_a_validation_error(people, bad) -> None:
    with pytest.raises(ValidationError):
        segment_rules_validate(bad)


def test_unknown_field_error_names_the_field(db) -> None:
    with pytest.raises(ValidationError) as error:
        segment_rules_validate(rules(("email__regex", "in", ["."])))
    assert "email__regex" in str(error.value)


HOSTILE = [
    "' OR 1=1 --",
    "1; DROP TABLE newsletter_contact",
    "kind__in",
    "__class__",
    "pk",
    "contact__email",
    "\x00",
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
    "a" * 5000,
    None,
    True,
    -1,
    10**30,
    1.5,
    [],
    {},
    ["mp"],
    {"$gt": ""},
]


def random_blob(rng: random.Random, depth: int = 0) -> object:
    choice = rng.random()
    if depth > 2 or choice < 0.4:
        return rng.choice(HOSTILE)
    if choice < 0.7:
        return [random_blob(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    return {
        rng.choice(["field", "op", "value", "conditions", "x"]): random_blob(
            rng, depth + 1
        )
        for _ in range(rng.randint(0, 3))
    }


def random_condition(rng: random.Random) -> dict[str, object]:
    return {
        "field": rng.choice(["kind", "country", "topics", "opened", *HOSTILE[:6]]),
        "op": rng.choice(["in", "any", "is", "within_days", "regex", "exact"]),
        "value": random_blob(rng),
    }


def test_fuzzed_rules_only_ever_raise_validation_errors(people) -> None:
    rng = random.Random(30)  # fixed seed: reproducible
    for _ in range(400):
        blob = (
            {"conditions": [random_condition(rng) for _ in range(rng.randint(0, 4))]}
            if rng.random() < 0.7
            else random_blob(rng)
        )
        try:
            counts = segment_counts(blob)
        except ValidationError:
            continue
        assert counts.total >= 0


def count_url() -> str:
    return reverse(Segment.snippet_viewset.get_url_name("count"))


def test_live_count_gives_the_audience_by_country_and_language(
    secretariat_client, people
) -> None:
    response = secretariat_client.get(count_url(), {"kind": ["mp"]})

    assert response.status_code == 200
    data = response.json()
    assert data["total"] == 2
    assert {row["code"]: row["count"] for row in data["by_country"]} == {
        "DE": 1,
        "RO": 1,
    }
    assert {row["code"]: row["count"] for row in data["by_language"]} == {
        "de": 1,
        "ro": 1,
    }


def test_live_count_never_fails_on_hostile_query_strings(
    secretariat_client, people
) -> None:
    rng = random.Random(7)
    names = [
        "kind",
        "country",
        "parliament",
        "language",
        "topics",
        "focal_point",
        "status",
        "lists",
        "opened_within_days",
        "clicked_within_days",
        "x",
    ]
    for _ in range(150):
        params = {
            rng.choice(names): [str(rng.choice(HOSTILE))[:300] for _ in range(2)]
            for _ in range(3)
        }
        response = secretariat_client.get(count_url(), params)
        assert response.status_code in (200, 400), params
        json.loads(response.content)


def test_segment_form_saves_rules_and_its_page_shows_counts(
    secretariat_client, people
) -> None:
    add_url = reverse(Segment.snippet_viewset.get_url_name("add"))

    response = secretariat_client.post(
        add_url,
        {
            "name": "Focal points in Germany",
            "country": ["DE"],
            "focal_point": "yes",
            "topics": ["child"],
        },
    )

    assert response.status_code == 302
    segment = Segment.objects.get(name="Focal points in Germany")
    assert segment.rules == rules(
        ("country", "in", ["DE"]),
        ("topics", "any", ["child"]),
        ("is_focal_point", "is", True),
    )
    page = secretariat_client.get(
        reverse(Segment.snippet_viewset.get_url_name("edit"), args=[segment.pk])
    )
    assert page.context["form"]["country"].value() == ["DE"]
    assert "Contacts in this segment:" in page.content.decode()
    assert segment_counts(segment.rules).total == 1


def test_segment_form_refuses_hostile_values_without_failing(
    secretariat_client, people
) -> None:
    add_url = reverse(Segment.snippet_viewset.get_url_name("add"))

    response = secretariat_client.post(
        add_url,
        {"name": "x", "country": ["DE' OR 1=1"], "opened_within_days": "-5"},
    )

    assert response.status_code == 200
    assert not Segment.objects.filter(name="x").exists()


def test_a_segment_selects_the_participants_of_an_event_in_any_language(
    event, django_capture_on_commit_callbacks
) -> None:
    from cms.translation import page_translate
    from newsletter.audience.segments import segment_contacts
    from newsletter.models import Segment
    from tests.factories import ContactFactory

    came, stayed_home = ContactFactory(), ContactFactory()
    event.participants = [came]
    event.save_revision().publish()
    texts = {
        "Network meeting on child trafficking": "Netzwerktreffen",
        "bucharest-meeting": "treffen",
        "Bucharest": "Bukarest",
    }
    with django_capture_on_commit_callbacks(execute=True):
        page_translate(event, language="de", texts=texts)
    segment = Segment.objects.create(
        name="Bucharest",
        rules={
            "conditions": [{"field": "events", "op": "any", "value": [str(event.pk)]}]
        },
    )

    assert list(segment_contacts(segment=segment)) == [came]
    assert stayed_home not in segment_contacts(segment=segment)


def test_an_unknown_event_is_a_validation_error(event) -> None:
    import pytest
    from django.core.exceptions import ValidationError

    from newsletter.audience.segments import segment_rules_validate

    with pytest.raises(ValidationError):
        segment_rules_validate(
            {"conditions": [{"field": "events", "op": "any", "value": ["999999"]}]}
        )

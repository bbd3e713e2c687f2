"""Load the demo: an issue and a report-back pack with published translations,
the network's eight activities, contacts across Europe and a mailing list.

Safe to run again: what exists already is left as it is.
"""

from __future__ import annotations

import datetime
import io
import unicodedata
from typing import Any

from django.contrib.auth import get_user_model
from django.core.files.images import ImageFile
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from PIL import Image as PILImage
from PIL import ImageDraw
from wagtail.images import get_image_model
from wagtail.models import Locale
from wagtail.rich_text import RichText

from cms.demo.content import (
    CONTACTS,
    EVENTS,
    ISSUE,
    PACK,
    PACK_TRANSLATIONS,
    TOPICS,
    TRANSLATIONS,
    demo_pack,
)
from cms.models import (
    ArchivePage,
    EventPage,
    HomePage,
    NewsletterIssuePage,
    ReportBackPackPage,
)
from cms.translation import MissingTranslation, page_translate
from newsletter.audience.consent import subscription_subscribe, tracking_consent_set
from newsletter.audience.contacts import contact_upsert
from newsletter.models import ConsentRecord, Contact, MailingList, Topic

# Parliaments of the demo MPs, by country: (parliament, chamber).
PARLIAMENTS = {
    "DE": ("Bundestag", ""),
    "AT": ("Nationalrat", ""),
    "RO": ("Parlamentul României", "Senatul României"),
    "BG": ("Народно събрание", ""),
    "PL": ("Sejm", ""),
    "NL": ("Staten-Generaal", "Tweede Kamer"),
    "PT": ("Assembleia da República", ""),
    "IT": ("Parlamento italiano", "Camera dei deputati"),
    "GR": ("Βουλή των Ελλήνων", ""),
    "GB": ("UK Parliament", "House of Commons"),
}


class Command(BaseCommand):
    help = "Load demo content: a translated issue and pack, events, 30 contacts and a list."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--admin-password", default="", help="Create user 'admin' with it."
        )

    def handle(self, *args: Any, admin_password: str, **options: Any) -> None:
        if admin_password:
            self._admin(admin_password)
        topics = self._topics()
        mailing_list = self._contacts(topics)
        issue = self._issue()
        for language, text in TRANSLATIONS.items():
            self._translate(issue, ISSUE, language, text)
        events = self._events(topics)
        pack = self._pack(events["bucharest-2025"])
        for language, text in PACK_TRANSLATIONS.items():
            self._translate(pack, PACK, language, text)
        self._archive()
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo ready: issue {issue.pk} in en, {', '.join(TRANSLATIONS)}; "
                f"pack {pack.pk} in en, {', '.join(PACK_TRANSLATIONS)}; {len(events)} events; "
                f"{mailing_list.subscriptions.count()} contacts on list '{mailing_list.slug}'."
            )
        )

    def _admin(self, password: str) -> None:
        user_model = get_user_model()
        if not user_model.objects.filter(username="admin").exists():
            user_model.objects.create_superuser(
                "admin", "admin@relay.localhost", password
            )

    @transaction.atomic
    def _issue(self) -> NewsletterIssuePage:
        existing = NewsletterIssuePage.objects.filter(
            slug=ISSUE["slug"], locale__language_code="en"
        ).first()
        if existing:
            return existing
        home = self._home()
        issue = NewsletterIssuePage(
            title=ISSUE["title"],
            slug=ISSUE["slug"],
            subject=ISSUE["subject"],
            preheader=ISSUE["preheader"],
            body=[
                ("heading", ISSUE["heading_1"]),
                ("paragraph", RichText(f"<p>{ISSUE['paragraph_1']}</p>")),
                (
                    "image",
                    {
                        "image": self._image(),
                        "alt": ISSUE["alt"],
                        "caption": ISSUE["caption"],
                    },
                ),
                ("heading", ISSUE["heading_2"]),
                ("paragraph", RichText(f"<p>{ISSUE['paragraph_2']}</p>")),
                (
                    "call_to_action",
                    {"text": ISSUE["cta_text"], "url": ISSUE["cta_url"]},
                ),
            ],
        )
        home.add_child(instance=issue)
        issue.save_revision().publish()
        return issue

    def _image(self) -> Any:
        image_model = get_image_model()
        existing = image_model.objects.filter(
            title="Network meeting in Bucharest"
        ).first()
        if existing:
            return existing
        picture = PILImage.new("RGB", (1200, 600), (29, 39, 51))
        draw = ImageDraw.Draw(picture)
        draw.rectangle((200, 250, 1000, 420), fill=(11, 92, 173))
        for seat in range(8):
            x = 240 + seat * 100
            draw.ellipse((x, 170, x + 60, 230), fill=(242, 244, 247))
            draw.ellipse((x, 440, x + 60, 500), fill=(242, 244, 247))
        buffer = io.BytesIO()
        picture.save(buffer, format="PNG")
        return image_model.objects.create(
            title="Network meeting in Bucharest",
            file=ImageFile(buffer, name="network-meeting-bucharest.png"),
        )

    def _translate(
        self, page: Any, source: dict[str, str], language: str, text: dict[str, str]
    ) -> None:
        if page.get_translation_or_none(Locale.objects.get(language_code=language)):
            return
        texts = {source[key]: value for key, value in text.items()}
        try:
            page_translate(page, language=language, texts=texts)
        except MissingTranslation as exc:
            raise CommandError(str(exc)) from exc

    def _home(self) -> HomePage:
        home = HomePage.objects.filter(locale__language_code="en").first()
        if home is None:
            raise CommandError("There is no English home page: run migrate first.")
        return home

    def _topics(self) -> dict[str, Topic]:
        return {
            slug: Topic.objects.get_or_create(slug=slug, defaults={"name": name})[0]
            for slug, name in TOPICS
        }

    @transaction.atomic
    def _events(self, topics: dict[str, Topic]) -> dict[str, EventPage]:
        home = self._home()
        events = {}
        for index, (slug, title, city, country, start, end) in enumerate(EVENTS):
            event = EventPage.objects.filter(slug=slug, locale=home.locale).first()
            if event is None:
                event = EventPage(
                    title=title,
                    slug=slug,
                    city=city,
                    country=country,
                    start_date=datetime.date.fromisoformat(start),
                    end_date=datetime.date.fromisoformat(end),
                )
                event.topics = [list(topics.values())[index % len(topics)]]
                event.participants = list(
                    Contact.objects.filter(kind__in=("mp", "mep")).order_by("pk")[
                        index : index + 6
                    ]
                )
                home.add_child(instance=event)
                event.save_revision().publish()
            events[slug] = event
        return events

    @transaction.atomic
    def _pack(self, event: EventPage) -> ReportBackPackPage:
        home = self._home()
        existing = ReportBackPackPage.objects.filter(
            slug=PACK["slug"], locale=home.locale
        ).first()
        if existing:
            return existing
        pack = demo_pack(event)
        home.add_child(instance=pack)
        pack.save_revision().publish()
        return pack

    @transaction.atomic
    def _archive(self) -> None:
        home = self._home()
        if not ArchivePage.objects.child_of(home).exists():
            archive = ArchivePage(title="Archive", slug="archive")
            home.add_child(instance=archive)
            archive.save_revision().publish()

    def _contacts(self, topics: dict[str, Topic]) -> MailingList:
        mailing_list, _ = MailingList.objects.get_or_create(
            slug="network-news",
            defaults={
                "name": "Network newsletter",
                "description": "News and report-back packs for the whole network.",
                "is_public": True,
            },
        )
        for index, (first, last, kind, country, language, fallbacks) in enumerate(
            CONTACTS
        ):
            name = unicodedata.normalize(
                "NFKD", f"{first}.{last}".lower().replace(" ", "")
            )
            local = name.encode("ascii", "ignore").decode()
            contact, _ = contact_upsert(
                email=f"{local}@{country.lower()}.example.org",
                first_name=first,
                last_name=last,
                kind=kind,
                country=country,
                preferred_language=language,
                fallback_languages=fallbacks,
                **self._directory_fields(index, kind, country),
            )
            contact.topics.set([list(topics.values())[index % len(topics)]])
            wording = "Added to the demo by the secretariat."
            subscription_subscribe(
                contact=contact,
                mailing_list=mailing_list,
                source=ConsentRecord.Source.ADMIN,
                wording=wording,
            )
            tracking_consent_set(
                contact=contact,
                granted=index % 5 != 4,
                source=ConsentRecord.Source.ADMIN,
                wording=wording,
            )
        return mailing_list

    def _directory_fields(self, index: int, kind: str, country: str) -> dict[str, Any]:
        fields: dict[str, Any] = {}
        if kind == "mp" and country in PARLIAMENTS:
            fields["parliament"], fields["chamber"] = PARLIAMENTS[country]
            fields["is_focal_point"] = index % 3 == 0
        if kind in ("ngo", "law_enforcement"):
            fields["organisation"] = {
                "ngo": "Anti-trafficking alliance",
                "law_enforcement": "National police, trafficking unit",
            }[kind]
            fields["listed_as_country_contact"] = True
        return fields

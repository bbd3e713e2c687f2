"""factory_boy factories for Relay's models."""

from __future__ import annotations

import factory
from factory.django import DjangoModelFactory

from newsletter.models import Contact, MailingList, Subscription, Topic


class MailingListFactory(DjangoModelFactory):
    class Meta:
        model = MailingList
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"List {n}")
    slug = factory.Sequence(lambda n: f"list-{n}")


class ContactFactory(DjangoModelFactory):
    class Meta:
        model = Contact
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"reader{n}@example.org")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    kind = Contact.Kind.MP
    country = "DE"
    preferred_language = "en"
    fallback_languages = factory.LazyFunction(list)
    tracking_consent = True

    @factory.post_generation
    def subscribed_to(
        self, create: bool, lists: list[MailingList] | None, **kwargs: object
    ) -> None:
        for mailing_list in lists or []:
            Subscription.objects.create(
                contact=self,
                mailing_list=mailing_list,
                status=Subscription.Status.SUBSCRIBED,
            )


class TopicFactory(DjangoModelFactory):
    class Meta:
        model = Topic
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Topic {n}")
    slug = factory.Sequence(lambda n: f"topic-{n}")

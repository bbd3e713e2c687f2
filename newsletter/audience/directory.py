"""Reading the directory for what readers see: the contacts listed in their country."""

from __future__ import annotations

from dataclasses import dataclass

from newsletter.models import Contact


@dataclass(frozen=True)
class CountryContact:
    name: str
    organisation: str
    kind: str
    email: str


LISTED_KINDS = (Contact.Kind.NGO, Contact.Kind.LAW_ENFORCEMENT)


def country_contacts(*, country: str) -> list[CountryContact]:
    """Return the NGO and law-enforcement contacts of ``country`` who agreed to be listed."""
    contacts = (
        Contact.objects.active()
        .filter(country=country, kind__in=LISTED_KINDS, listed_as_country_contact=True)
        .order_by("kind", "organisation", "last_name")
    )
    return [
        CountryContact(
            name=contact.full_name,
            organisation=contact.organisation,
            kind=contact.get_kind_display(),
            email=contact.email,
        )
        for contact in contacts
    ]

"""Erase a contact's personal data (GDPR erasure request)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from newsletter.audience.contacts import normalise_email
from newsletter.audience.gdpr import contact_erase
from newsletter.models import Contact


class Command(BaseCommand):
    help = (
        "Erase the personal data of the contact with this address. Aggregate "
        "figures stay; the address stays suppressed (as a hash only)."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("email", help="The contact's email address.")
        parser.add_argument(
            "--yes",
            action="store_true",
            help="Confirm the erasure; without it nothing is changed.",
        )

    def handle(self, *args: Any, email: str, yes: bool, **options: Any) -> None:
        contact = Contact.objects.filter(email__iexact=normalise_email(email)).first()
        if contact is None:
            raise CommandError("No contact has this address.")
        if not yes:
            raise CommandError(
                f"This erases contact {contact.pk} for good. Run again with --yes."
            )
        contact = contact_erase(contact=contact)
        self.stdout.write(f"Contact {contact.pk} erased.")

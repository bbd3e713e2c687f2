"""Print everything held about a contact as JSON (GDPR access request)."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from newsletter.audience.contacts import normalise_email
from newsletter.audience.gdpr import contact_export_data
from newsletter.models import Contact


class Command(BaseCommand):
    help = "Print everything held about the contact with this address, as JSON."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("email", help="The contact's email address.")

    def handle(self, *args: Any, email: str, **options: Any) -> None:
        contact = Contact.objects.filter(email__iexact=normalise_email(email)).first()
        if contact is None:
            raise CommandError("No contact has this address.")
        data = contact_export_data(contact=contact)
        self.stdout.write(json.dumps(data, ensure_ascii=False, indent=2))

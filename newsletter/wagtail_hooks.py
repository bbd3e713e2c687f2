"""Wagtail finds hooks here; each admin area registers its own in newsletter/admin/."""

from newsletter.admin import campaigns, directory, imports  # noqa: F401

"""Importing and exporting contacts in the Wagtail admin."""

"""The contact directory in the Wagtail admin."""

"""The Wagtail admin of the newsletter engine, one module per area.

Each module registers its own Wagtail hooks; ``newsletter/wagtail_hooks.py``
imports them so that Wagtail finds them.
"""

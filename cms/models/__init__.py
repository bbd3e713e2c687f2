from .pages import HomePage, NewsletterIssuePage

__all__ = ["HomePage", "NewsletterIssuePage"]

from .pages import (
    ArchivePage,
    EventPage,
    HomePage,
    NewsletterIssuePage,
    ReportBackPackPage,
)

__all__ = [
    "ArchivePage",
    "EventPage",
    "HomePage",
    "NewsletterIssuePage",
    "ReportBackPackPage",
]

"""PostgreSQL cursors of psycopg's own, binding on the server, wrapped as Django's.

Django's PostgreSQL cursors bind on the client: every value is written into
the statement's text, each element of an array quoted in turn, and nothing
is prepared. The tracking reads of a bare token (``newsletter.tracking.hits``)
are prepared here, and the bulk inserts (``newsletter.bulk``) send their
arrays in binary.
"""

from __future__ import annotations

import psycopg
from django.db import DEFAULT_DB_ALIAS, connections


def server_bound_cursor(*, prepared: bool = False):  # type: ignore[no-untyped-def]
    """Return a cursor of psycopg's own on the default connection, binding on the server.

    Django's PostgreSQL cursors bind on the client: they write every value
    into the statement's text, quoting each element of an array. This one
    sends values apart, so that ``%b`` sends one in binary; ``prepared``
    prepares each statement once per connection. It is wrapped as Django
    wraps its cursors (errors, query logging, execute wrappers) and runs in
    the connection's transaction. PostgreSQL only.
    """
    db = connections[DEFAULT_DB_ALIAS]
    db.ensure_connection()
    raw = db.connection
    if prepared and raw.prepare_threshold is None:
        # Django turns psycopg's automatic preparing off (for connection
        # poolers); only these reads ask for it, explicitly.
        raw.prepare_threshold = _NEVER_AUTOMATICALLY
    wrapped = _PreparedCursor(raw) if prepared else psycopg.Cursor(raw)
    return (
        db.make_debug_cursor(wrapped) if db.queries_logged else db.make_cursor(wrapped)
    )


_NEVER_AUTOMATICALLY = 2**62


class _PreparedCursor(psycopg.Cursor):
    """A psycopg cursor (binding on the server) whose statements are prepared."""

    def execute(self, query, params=None, **options):  # type: ignore[no-untyped-def]
        """Execute ``query`` as a prepared statement, prepared on first use."""
        return super().execute(query, params, prepare=True)

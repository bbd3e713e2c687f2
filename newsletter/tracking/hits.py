"""Tracking hits commit without waiting for the disk, on PostgreSQL.

The open pixel and the click redirect are the most requested URLs of all, and
waiting for each hit's commit to be flushed to disk was most of their cost.
Their statements set ``synchronous_commit`` off for their own transaction
only (``set_config(..., true)``, as ``SET LOCAL`` does), from inside the
statement itself, so that no extra round trip is needed
(https://www.postgresql.org/docs/current/wal-async-commit.html).

The trade-off, for tracking hits only (opens, clicks and an MP's device; never
the delivery ledger, consent or suppression): the database stays consistent,
but if the PostgreSQL server itself crashes, the hits committed in the last
moments before (at most three times ``wal_writer_delay``, 0.6 s by default)
are lost. A crash of Relay loses none: a hit is answered only after its
commit. On SQLite nothing changes.

With a tracking buffer (``newsletter.tracking.buffer``) a hit writes nothing
in its request; its one read goes through ``hit_read``, a prepared statement
on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import DEFAULT_DB_ALIAS, connection, connections

from newsletter.cursors import server_bound_cursor

HIT_COMMIT = "hit_commit"


def hit_commit_sql() -> tuple[str, str]:
    """Return a WITH clause and FROM items that make a hit's statement commit asynchronously.

    Put the first before ``INSERT`` and the second (``"hit_commit, "``) first
    in the ``FROM`` of its ``SELECT``. On PostgreSQL, the CTE sets ``synchronous_commit`` off for the
    statement's transaction; a row is only written when the CTE's row was
    produced, so every write is covered. Elsewhere both are empty.
    """
    if connection.vendor != "postgresql":
        return "", ""
    return (
        f"WITH {HIT_COMMIT} AS (SELECT set_config('synchronous_commit', 'off', true)) ",
        f"{HIT_COMMIT}, ",
    )


def hit_read(statement: Callable[[str], str], params: list[object]) -> tuple | None:
    """Run the one read of a buffered hit and return its first row, or None.

    ``statement`` returns the SQL for a database vendor. On PostgreSQL the
    statement is prepared once per connection and then only executed:
    planning its join again on every hit cost more than running it, and
    Django's cursors bind on the client and never prepare. The cursor is
    psycopg's own, binding on the server, wrapped as Django wraps its cursors
    (errors, query logging). Elsewhere a plain cursor.
    """
    db = connections[DEFAULT_DB_ALIAS]  # one lookup: each goes through a Local
    sql = statement(db.vendor)
    if db.vendor != "postgresql":
        with db.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone()
    with server_bound_cursor(prepared=True) as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()

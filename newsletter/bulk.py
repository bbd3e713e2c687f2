"""Rows written column by column: one PostgreSQL ``INSERT ... SELECT FROM unnest``.

What ``bulk_create`` does on PostgreSQL too, less its building a model instance
and preparing each field of each row, which cost more than the insert itself
for the ledger of a large campaign and for the tracking drain's batches. The
arrays go to the server apart from the statement and in binary: written into
its text, as Django's cursors bind, every element was quoted in turn.
PostgreSQL only: callers keep ``bulk_create`` for other databases.
"""

from __future__ import annotations

from django.db import connection, models

from newsletter.cursors import server_bound_cursor


def arrays_insert(
    model: type[models.Model],
    columns: dict[str, tuple[str, list[object]]],
    *,
    constants: dict[str, str],
    skip_conflicts: bool = False,
) -> None:
    """Insert rows given as ``{field: (PostgreSQL type, values)}``, one list per column.

    ``constants`` gives the other fields as SQL of the caller's own (``''``,
    ``0``, ``now()``), never input; ``skip_conflicts`` leaves rows that a
    unique constraint already holds.
    """
    meta = model._meta
    name = connection.ops.quote_name
    fields = [*columns, *constants]
    # Names from the model's _meta, values parameters, constants SQL of ours.
    sql = (
        f"INSERT INTO {name(meta.db_table)} "  # noqa: S608
        f"({', '.join(name(meta.get_field(field).column) for field in fields)}) "
        f"SELECT *{''.join(', ' + value for value in constants.values())} "
        f"FROM unnest({', '.join(f'%b::{kind}[]' for kind, _ in columns.values())})"
        + (" ON CONFLICT DO NOTHING" if skip_conflicts else "")
    )
    with server_bound_cursor() as cursor:
        cursor.execute(sql, [values for _kind, values in columns.values()])

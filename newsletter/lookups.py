"""``field__any_of=values``: a list of ids (or of strings) as one query parameter.

``pk__in`` with a thousand ids writes a thousand placeholders, which Django
prepares one by one, the driver splits and the server parses; a send batch
runs several such queries. ``any_of`` passes the whole list as one array
(PostgreSQL: ``= ANY(%s::bigint[])``, the plan ``IN`` gets too) or one JSON
text (SQLite: ``IN (SELECT value FROM json_each(%s))``). On text columns
(tokens) the array is ``text[]``.

Pass a set: Django walks a list or a tuple given to any lookup item by item,
looking for expressions, which cost more than the query's own work on a
thousand ids.
"""

from __future__ import annotations

import json
from typing import Any

from django.db.models import BigAutoField, CharField, ForeignKey, Lookup


class AnyOf(Lookup):
    lookup_name = "any_of"
    prepare_rhs = False

    def _text(self) -> bool:
        return isinstance(self.lhs.output_field, CharField)

    def get_db_prep_lookup(self, value: Any, connection: Any) -> tuple[str, list[Any]]:
        if self._text():
            return "%s", [[str(item) for item in value]]
        return "%s", [[int(item) for item in value]]

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        # ``lhs`` is the column as Django compiled it; the values are a parameter.
        lhs, lhs_params = self.process_lhs(compiler, connection)
        _, (ids,) = self.get_db_prep_lookup(self.rhs, connection)
        if connection.vendor == "postgresql":
            if self._text():
                return f"{lhs} = ANY(%s::text[])", [*lhs_params, ids]
            # Ids as one array literal: Django's cursors bind on the client,
            # where a list is written out element by element.
            literal = "{" + ",".join(map(str, ids)) + "}"
            return f"{lhs} = ANY(%s::bigint[])", [*lhs_params, literal]
        return f"{lhs} IN (SELECT value FROM json_each(%s))", [  # noqa: S608
            *lhs_params,
            json.dumps(ids),
        ]


def lookups_register() -> None:
    """Make ``any_of`` available on primary keys, foreign keys and text columns."""
    BigAutoField.register_lookup(AnyOf)
    ForeignKey.register_lookup(AnyOf)
    CharField.register_lookup(AnyOf)

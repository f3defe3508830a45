"""Querysets whose SQL the ORM works out once per process, not on every request. Read-only.

Issue #11: on a customer's booking page the ORM took several times longer to build the SQL of its two
main reads (the link's row with what the page shows of it, the week's busy times) than the database took
to answer them. A PrebuiltQuery builds its queryset once per database and shape with stand-in values no
real row has, finds where each stand-in went among the SQL's parameters, and from then on only puts the
real values there. The rows still go through the ORM's own reading (model instances with their
select_related rows, values tuples, converters), so a run gives what the queryset would have given.

Only the SQL is kept, never a row: every run asks the database.
"""

import copy
from collections.abc import Callable, Hashable
from datetime import UTC, datetime, timedelta
from threading import Lock

from django.core.exceptions import EmptyResultSet, FullResultSet
from django.db import connections, router
from django.db.models import QuerySet
from django.db.models.sql import Query

# Stand-ins: far below any id a table hands out, and a century before any visit.
_STAND_IN_ID = -(10**12)
_STAND_IN_INSTANT = datetime(1901, 1, 1, tzinfo=UTC)


class _KnownQuery(Query):
    """The query of a prebuilt queryset: the compiler it hands out runs the SQL worked out when it was built."""

    compiled = None  # the SQLCompiler that built the SQL, with what it worked out on the way (select, klass_info…)
    sql = ""
    params: tuple = ()

    def chain(self, klass=None):
        # Each run's own copy, never filtered further: it only carries its parameters.
        return copy.copy(self)

    def get_compiler(self, using=None, connection=None, elide_empty=True):
        compiler = copy.copy(self.compiled)
        compiler.query = self
        compiler.using = using
        compiler.connection = connection or connections[using]
        sql, params = self.sql, self.params
        compiler.as_sql = lambda *args, **kwargs: (sql, params)
        return compiler


class PrebuiltQuery:
    """`build(**values)` returns a queryset; calling this with the same keywords gives its rows as a list.

    Values that are ints, aware datetimes or lists of ints end up as parameters of the SQL and are put in
    per run; any other value (None, a bool, a string) shapes the query and is passed on as it is, as is
    the length of a list: each shape is built once. A queryset whose stand-ins do not all reach the SQL
    unchanged (the ORM made something else of one), or that needs no query at all (an empty list), is
    simply built and run each time.
    """

    def __init__(self, model, build: Callable[..., QuerySet]):
        self.model = model
        self.build = build
        self._built: dict[tuple, tuple[QuerySet, list] | None] = {}
        self._lock = Lock()

    def __call__(self, **values) -> list:
        queryset = self._queryset(values)
        return list(queryset) if queryset is not None else list(self.build(**values))

    def first(self, **values):
        """The first row, or None: for a queryset that filters by primary key."""
        rows = self(**values)
        return rows[0] if rows else None

    def driver_rows(self, **values) -> list[tuple]:
        """The rows as the database driver returns them, without the ORM's converters: for a values_list()
        whose columns the driver already returns as they are wanted (integers)."""
        queryset = self._queryset(values)
        if queryset is None:
            return [tuple(row) for row in self.build(**values)]
        with connections[queryset.db].cursor() as cursor:
            cursor.execute(queryset.query.sql, queryset.query.params)
            return cursor.fetchall()

    def _queryset(self, values: dict) -> QuerySet | None:
        """A queryset that runs the prebuilt SQL with `values`; None when this shape has none."""
        db = router.db_for_read(self.model)
        shape = tuple(sorted((name, _shape_of(value)) for name, value in values.items()))
        key = (db, connections[db].vendor, shape)
        if key not in self._built:
            with self._lock:
                if key not in self._built:
                    self._built[key] = self._prebuild(db, values)
        if (prebuilt := self._built[key]) is None:
            return None
        template, sources = prebuilt
        adapt = connections[db].ops.adapt_datetimefield_value
        queryset = template._clone()  # _KnownQuery.chain: a shallow copy
        queryset.query.params = tuple(
            extra if name is None else _adapted(values[name], extra, adapt) for name, extra in sources
        )
        return queryset

    def _prebuild(self, db: str, values: dict) -> tuple[QuerySet, list] | None:
        connection = connections[db]
        adapt = connection.ops.adapt_datetimefield_value
        stand_ins, where = {}, {}
        next_id = _STAND_IN_ID
        for name, value in values.items():
            if isinstance(value, list | tuple):
                stand_ins[name] = [next_id - index for index in range(len(value))]
                where.update({next_id - index: (name, index) for index in range(len(value))})
                next_id -= len(value)
            elif isinstance(value, datetime):
                stand_ins[name] = _STAND_IN_INSTANT + timedelta(days=next_id - _STAND_IN_ID)
                where[adapt(stand_ins[name])] = (name, None)
                next_id -= 1
            elif isinstance(value, int) and not isinstance(value, bool):
                stand_ins[name] = next_id
                where[next_id] = (name, None)
                next_id -= 1
            else:
                stand_ins[name] = value
        template = self.build(**stand_ins)
        compiler = template.query.get_compiler(using=db)
        try:
            sql, params = compiler.as_sql()
        except (EmptyResultSet, FullResultSet):
            return None
        sources = [(where.get(param) if isinstance(param, Hashable) else None) or (None, param) for param in params]
        # A stand-in the SQL does not carry as it is would be run as it is: then the ORM builds each run's SQL.
        if not set(where.values()) <= {source for source in sources if source[0] is not None}:
            return None
        known = template.query.chain(klass=_KnownQuery)
        known.compiled, known.sql = compiler, sql
        # Not the `query` setter: it would turn a values_list() queryset into a values() one.
        template._query = known
        return template, sources


def _shape_of(value):
    if isinstance(value, list | tuple):
        return ("list", len(value))
    if isinstance(value, datetime):
        return "datetime"
    if isinstance(value, int) and not isinstance(value, bool):
        return "int"
    return ("as is", value)


def _adapted(value, index, adapt):
    if index is not None:
        return value[index]
    return adapt(value) if isinstance(value, datetime) else value

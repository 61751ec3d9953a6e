"""Publish tables into a live Postgres schema without breaking what BI built on it.

Dropping and recreating the ``marts`` schema would drop every grant and every view that analysts built on the
marts, and wait without limit behind long BI queries. ``swap_tables`` instead moves freshly staged tables into
the live schema in one transaction that gives up after ``lock_timeout``, and puts back what the drop removed:
the dependent views (in any schema, with owner, grants and comments) and the tables' grants and comments.

Readers see the old tables or the new ones, never a mix: Postgres DDL is transactional.
Not carried over (documented limits): indexes, row-level-security policies, triggers and foreign keys on the
live tables, and non-view objects (e.g. SQL functions with ``BEGIN ATOMIC`` bodies) that depend on them.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import psycopg2
import psycopg2.errors
from psycopg2 import sql
from psycopg2.extensions import TRANSACTION_STATUS_IDLE, connection, cursor

# aclexplode() privilege names we re-grant; anything else would be spliced into SQL, so it must be known.
_PRIVILEGES = frozenset(
    {"SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER", "MAINTAIN"}
)
_RELOPTION_NAME = re.compile(r"^[a-z_][a-z0-9_.]*$")
_VIEW_KINDS = {"v": "view", "m": "materialized view"}


class PublishLockTimeout(RuntimeError):
    """A reader held a lock on the live tables for longer than the lock timeout; nothing was changed."""


@dataclass
class SwapResult:
    tables: list[str] = field(default_factory=list)
    views_recreated: list[str] = field(default_factory=list)
    views_dropped: list[tuple[str, str]] = field(default_factory=list)
    stale_tables_dropped: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Grant:
    privilege: str
    grantee: str | None  # None is PUBLIC
    grantable: bool
    column: str | None = None  # a column-level grant


@dataclass(frozen=True)
class _Comments:
    relation: str | None
    columns: dict[str, str]


@dataclass(frozen=True)
class _SavedView:
    schema: str
    name: str
    kind: str  # pg_class.relkind: 'v' or 'm'
    definition: str
    owner: str
    options: list[str]
    populated: bool
    grants: list[_Grant]
    comments: _Comments
    indexes: list[str]  # materialized views only

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.name}"


def ensure_reader_role(cur: cursor, role: str, schemas: Sequence[str] = ("marts", "audit")) -> None:
    """Create ``role`` if missing and let it read every table and view of ``schemas``, and nothing more.

    The role gets LOGIN but no password: under password authentication nobody can log in as it until an
    administrator sets one. Schemas that do not exist yet are skipped (the next publish grants them).
    """
    cur.execute("select 1 from pg_roles where rolname = %s", (role,))
    if cur.fetchone() is None:
        cur.execute(sql.SQL("create role {} login").format(sql.Identifier(role)))
    cur.execute("select nspname from pg_namespace where nspname = any(%s)", (list(schemas),))
    existing = {row[0] for row in cur.fetchall()}
    for schema in (s for s in schemas if s in existing):
        names = {"schema": sql.Identifier(schema), "role": sql.Identifier(role)}
        cur.execute(sql.SQL("grant usage on schema {schema} to {role}").format(**names))
        cur.execute(sql.SQL("grant select on all tables in schema {schema} to {role}").format(**names))


def swap_tables(
    conn: connection,
    *,
    staged_schema: str,
    live_schema: str,
    tables: list[str],
    reader_role: str,
    lock_timeout_ms: int = 10000,
    before_commit: Callable[[cursor], None] | None = None,
) -> SwapResult:
    """Replace the tables of ``live_schema`` by the ``tables`` staged in ``staged_schema``, atomically.

    Base tables of ``live_schema`` not in ``tables`` are stale marts: they are dropped and reported. Views
    that no longer compile against the new tables are reported in ``views_dropped``, not failing the publish.
    ``before_commit(cur)`` runs last inside the transaction, so what it writes commits with the new tables.
    Raises ``PublishLockTimeout`` when readers hold the live tables longer than ``lock_timeout_ms``; on that
    or any other error the transaction is rolled back and the live schema is exactly as it was.
    """
    (result,) = swap_schemas(
        conn,
        [Swap(staged_schema, live_schema, tables)],
        reader_role=reader_role,
        lock_timeout_ms=lock_timeout_ms,
        before_commit=before_commit,
    )
    return result


@dataclass(frozen=True)
class Swap:
    staged_schema: str
    live_schema: str
    tables: list[str]


def swap_schemas(
    conn: connection,
    swaps: Sequence[Swap],
    *,
    reader_role: str,
    lock_timeout_ms: int = 10000,
    before_commit: Callable[[cursor], None] | None = None,
) -> list[SwapResult]:
    """``swap_tables`` for several live schemas in ONE transaction (e.g. ``marts`` with ``audit``): readers
    see all the new tables or none."""
    if conn.info.transaction_status != TRANSACTION_STATUS_IDLE:
        # Our rollback would silently undo the caller's uncommitted work (e.g. the staging copy).
        raise ValueError("swap_tables needs a connection with no transaction in progress; commit first")
    was_autocommit = conn.autocommit
    conn.autocommit = False
    current = swaps[0].live_schema if swaps else ""
    try:
        with conn.cursor() as cur:
            results = []
            for index, swap in enumerate(swaps):
                current = swap.live_schema
                last = index == len(swaps) - 1
                results.append(
                    _swap(
                        cur,
                        swap.staged_schema,
                        swap.live_schema,
                        swap.tables,
                        reader_role,
                        lock_timeout_ms,
                        before_commit if last else None,
                    )
                )
        conn.commit()
    except psycopg2.errors.LockNotAvailable as error:
        _rollback_quietly(conn)
        raise PublishLockTimeout(_lock_timeout_message(current, lock_timeout_ms)) from error
    except BaseException:
        _rollback_quietly(conn)
        raise
    finally:
        if not conn.closed:
            conn.autocommit = was_autocommit
    for swap in swaps:
        _drop_schema_if_empty(conn, swap.staged_schema)
    return results


def _swap(
    cur: cursor,
    staged_schema: str,
    live_schema: str,
    tables: list[str],
    reader_role: str,
    lock_timeout_ms: int,
    before_commit: Callable[[cursor], None] | None,
) -> SwapResult:
    cur.execute("select set_config('lock_timeout', %s, true)", (f"{int(lock_timeout_ms)}ms",))
    # With only pg_catalog on the path, pg_get_viewdef qualifies every name, so a saved definition means the
    # same thing when replayed whatever the caller's search_path was.
    cur.execute("select current_setting('search_path'), set_config('search_path', 'pg_catalog', true)")
    caller_search_path = cur.fetchone()[0]
    cur.execute(sql.SQL("create schema if not exists {}").format(sql.Identifier(live_schema)))

    missing = sorted(set(tables) - set(_base_tables(cur, staged_schema)))
    if missing:
        raise ValueError(f"tables not staged in schema {staged_schema}: {', '.join(missing)}")
    live = _base_tables(cur, live_schema)
    stale = [t for t in live if t not in set(tables)]
    # Take the strongest lock first: it is where a long BI query makes us wait, before any work is done, and
    # with it held nobody can create a new dependent view while we read the catalog.
    if live:
        targets = sql.SQL(", ").join(sql.Identifier(live_schema, t) for t in live)
        cur.execute(sql.SQL("lock table {} in access exclusive mode").format(targets))

    views = _dependent_views(cur, live_schema)
    replaced = [t for t in tables if t in set(live)]
    table_grants = {t: _grants(cur, _oid(cur, live_schema, t)) for t in replaced}
    table_comments = {t: _comments(cur, _oid(cur, live_schema, t)) for t in replaced}

    for table in live:
        cur.execute(sql.SQL("drop table {} cascade").format(sql.Identifier(live_schema, table)))
    for table in tables:
        cur.execute(
            sql.SQL("alter table {} set schema {}").format(
                sql.Identifier(staged_schema, table), sql.Identifier(live_schema)
            )
        )

    result = SwapResult(tables=list(tables), stale_tables_dropped=stale)
    for view in views:
        error = _recreate_view(cur, view)
        if error is None:
            result.views_recreated.append(view.qualified)
        else:
            result.views_dropped.append((view.qualified, error))
    for table in replaced:
        _restore_table(cur, live_schema, table, table_grants[table], table_comments[table])
    ensure_reader_role(cur, reader_role, (live_schema,))

    cur.execute("select set_config('search_path', %s, true)", (caller_search_path,))
    if before_commit is not None:
        before_commit(cur)
    return result


def _base_tables(cur: cursor, schema: str) -> list[str]:
    cur.execute(
        "select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace "
        "where n.nspname = %s and c.relkind in ('r', 'p') and not c.relispartition order by 1",
        (schema,),
    )
    return [row[0] for row in cur.fetchall()]


def _oid(cur: cursor, schema: str, name: str) -> int:
    cur.execute(
        "select c.oid from pg_class c join pg_namespace n on n.oid = c.relnamespace "
        "where n.nspname = %s and c.relname = %s",
        (schema, name),
    )
    return cur.fetchone()[0]


# Views reach the tables they read through their rewrite rule: pg_depend(rule -> relation). Depth is the
# longest path from a live table, so recreating by increasing depth puts each view after the views it reads.
_DEPENDENT_VIEWS = """
with recursive deps(oid, depth) as (
    select r.ev_class, 1
    from pg_class t
    join pg_namespace n on n.oid = t.relnamespace
    join pg_depend d on d.refclassid = 'pg_class'::regclass and d.refobjid = t.oid
    join pg_rewrite r on d.classid = 'pg_rewrite'::regclass and d.objid = r.oid
    where n.nspname = %s and t.relkind in ('r', 'p') and r.ev_class <> t.oid
    union
    select r.ev_class, deps.depth + 1
    from deps
    join pg_depend d on d.refclassid = 'pg_class'::regclass and d.refobjid = deps.oid
    join pg_rewrite r on d.classid = 'pg_rewrite'::regclass and d.objid = r.oid
    where r.ev_class <> deps.oid and deps.depth < 100
)
select v.oid, vn.nspname, v.relname, v.relkind, pg_get_viewdef(v.oid, true),
       pg_get_userbyid(v.relowner), coalesce(v.reloptions, '{}'), v.relispopulated
from (select oid, max(depth) as depth from deps group by oid) ordered
join pg_class v on v.oid = ordered.oid
join pg_namespace vn on vn.oid = v.relnamespace
where v.relkind in ('v', 'm')
order by ordered.depth, vn.nspname, v.relname
"""


def _dependent_views(cur: cursor, live_schema: str) -> list[_SavedView]:
    cur.execute(_DEPENDENT_VIEWS, (live_schema,))
    rows = cur.fetchall()
    return [
        _SavedView(
            schema=schema,
            name=name,
            kind=kind,
            definition=definition.strip().rstrip(";"),
            owner=owner,
            options=list(options),
            populated=populated,
            grants=_grants(cur, oid),
            comments=_comments(cur, oid),
            indexes=_indexes(cur, oid),
        )
        for oid, schema, name, kind, definition, owner, options, populated in rows
    ]


def _grants(cur: cursor, oid: int) -> list[_Grant]:
    """Table- and column-level grants, except the owner's own (implicit in ownership)."""
    cur.execute(
        "select a.privilege_type, case when a.grantee = 0 then null else pg_get_userbyid(a.grantee) end, "
        "       a.is_grantable, null::name "
        "from pg_class c, aclexplode(c.relacl) a where c.oid = %(oid)s and a.grantee <> c.relowner "
        "union all "
        "select a.privilege_type, case when a.grantee = 0 then null else pg_get_userbyid(a.grantee) end, "
        "       a.is_grantable, att.attname "
        "from pg_class c join pg_attribute att on att.attrelid = c.oid, aclexplode(att.attacl) a "
        "where c.oid = %(oid)s and att.attnum > 0 and not att.attisdropped and a.grantee <> c.relowner",
        {"oid": oid},
    )
    return [_Grant(*row) for row in cur.fetchall() if row[0] in _PRIVILEGES]


def _comments(cur: cursor, oid: int) -> _Comments:
    cur.execute(
        "select obj_description(%(oid)s, 'pg_class'), "
        "       coalesce(jsonb_object_agg(attname, col_description(attrelid, attnum)) "
        "                filter (where col_description(attrelid, attnum) is not null), '{}') "
        "from pg_attribute where attrelid = %(oid)s and attnum > 0 and not attisdropped",
        {"oid": oid},
    )
    relation, columns = cur.fetchone()
    return _Comments(relation, columns)


def copy_comments(cur: cursor, source_schema: str, target_schema: str, table: str) -> None:
    """Give ``target_schema.table`` the table and column comments of ``source_schema.table`` (CREATE TABLE AS
    copies none): the dbt YAML descriptions that persist_docs wrote on the build's marts."""
    _apply_comments(cur, "table", target_schema, table, _comments(cur, _oid(cur, source_schema, table)))


def set_comments(cur: cursor, schema: str, table: str, relation: str | None, columns: dict[str, str]) -> None:
    """Comment ``schema.table`` and its ``columns`` (name -> text); None or empty texts are left out."""
    _apply_comments(
        cur, "table", schema, table, _Comments(relation or None, {c: t for c, t in columns.items() if t})
    )


def _indexes(cur: cursor, oid: int) -> list[str]:
    cur.execute("select pg_get_indexdef(indexrelid) from pg_index where indrelid = %s order by 1", (oid,))
    return [row[0] for row in cur.fetchall()]


def _columns(cur: cursor, oid: int) -> set[str]:
    cur.execute(
        "select attname from pg_attribute where attrelid = %s and attnum > 0 and not attisdropped", (oid,)
    )
    return {row[0] for row in cur.fetchall()}


def _recreate_view(cur: cursor, view: _SavedView) -> str | None:
    """Recreate ``view`` inside a savepoint; the first line of the error if it no longer compiles."""
    cur.execute("savepoint clm_view")
    try:
        cur.execute(_create_view_sql(view))
        for index in view.indexes:
            cur.execute(index)
        target = sql.Identifier(view.schema, view.name)
        for grant in view.grants:
            cur.execute(_grant_sql(grant, target))
        _apply_comments(cur, _VIEW_KINDS[view.kind], view.schema, view.name, view.comments)
        _restore_owner(cur, view, target)
    except psycopg2.DatabaseError as error:
        if isinstance(error, psycopg2.OperationalError):
            raise  # lock timeout, cancel, lost connection: the publish must fail, not drop the view
        cur.execute("rollback to savepoint clm_view")
        cur.execute("release savepoint clm_view")
        return _first_line(error)
    cur.execute("release savepoint clm_view")
    return None


def _create_view_sql(view: _SavedView) -> sql.Composed:
    options = sql.SQL("")
    if view.options:
        pairs = []
        for option in view.options:
            name, _, value = option.partition("=")
            if not _RELOPTION_NAME.match(name):
                raise ValueError(f"unexpected option {name!r} on view {view.qualified}")
            pairs.append(sql.SQL("{} = {}").format(sql.SQL(name), sql.Literal(value)))
        options = sql.SQL(" with ({})").format(sql.SQL(", ").join(pairs))
    data = sql.SQL("")
    if view.kind == "m":
        data = sql.SQL(" with data" if view.populated else " with no data")
    return sql.SQL("create {kind} {name}{options} as {definition}{data}").format(
        kind=sql.SQL(_VIEW_KINDS[view.kind]),
        name=sql.Identifier(view.schema, view.name),
        options=options,
        definition=sql.SQL(view.definition),
        data=data,
    )


def _restore_owner(cur: cursor, view: _SavedView, target: sql.Identifier) -> None:
    """Give the view back to its owner; the owner's rights decide what it can read. Best effort: a
    publisher that is neither superuser nor member of the owner role keeps the view instead of failing."""
    cur.execute("select current_user")
    if cur.fetchone()[0] == view.owner:
        return
    cur.execute("savepoint clm_owner")
    try:
        cur.execute(
            sql.SQL("alter {} {} owner to {}").format(
                sql.SQL(_VIEW_KINDS[view.kind]), target, sql.Identifier(view.owner)
            )
        )
    except psycopg2.errors.InsufficientPrivilege:
        cur.execute("rollback to savepoint clm_owner")
    cur.execute("release savepoint clm_owner")


def _restore_table(cur: cursor, schema: str, table: str, grants: list[_Grant], comments: _Comments) -> None:
    """Re-grant what the old table had; a column-level grant on a column that is gone is moot."""
    target = sql.Identifier(schema, table)
    oid = _oid(cur, schema, table)
    columns = _columns(cur, oid)
    for grant in grants:
        if grant.column is None or grant.column in columns:
            cur.execute(_grant_sql(grant, target))
    # The new table's own comments (if the build set any) are newer than the saved ones.
    current = _comments(cur, oid)
    missing = _Comments(
        comments.relation if current.relation is None else None,
        {c: text for c, text in comments.columns.items() if c in columns and c not in current.columns},
    )
    _apply_comments(cur, "table", schema, table, missing)


def _grant_sql(grant: _Grant, target: sql.Identifier) -> sql.Composed:
    privilege = sql.SQL(grant.privilege)
    if grant.column is not None:
        privilege = sql.SQL("{} ({})").format(privilege, sql.Identifier(grant.column))
    grantee = sql.SQL("public") if grant.grantee is None else sql.Identifier(grant.grantee)
    option = sql.SQL(" with grant option" if grant.grantable else "")
    return sql.SQL("grant {} on table {} to {}{}").format(privilege, target, grantee, option)


def _apply_comments(cur: cursor, kind: str, schema: str, name: str, comments: _Comments) -> None:
    if comments.relation is not None:
        cur.execute(
            sql.SQL("comment on {} {} is {}").format(
                sql.SQL(kind), sql.Identifier(schema, name), sql.Literal(comments.relation)
            )
        )
    for column, text in comments.columns.items():
        cur.execute(
            sql.SQL("comment on column {} is {}").format(
                sql.Identifier(schema, name, column), sql.Literal(text)
            )
        )


def _drop_schema_if_empty(conn: connection, schema: str) -> None:
    """Tidy up after the commit: the staging schema goes if nothing is left in it (restrict keeps anything
    unswapped or someone else's). The publish has succeeded: a failure here must not make it look failed."""
    try:
        with conn.cursor() as cur:
            cur.execute(sql.SQL("drop schema if exists {} restrict").format(sql.Identifier(schema)))
        if not conn.autocommit:
            conn.commit()
    except psycopg2.Error:
        _rollback_quietly(conn)


def _rollback_quietly(conn: connection) -> None:
    """Roll back without hiding the error being handled behind a second one from a dead connection."""
    if conn.closed:
        return
    with contextlib.suppress(psycopg2.Error):
        conn.rollback()


def _lock_timeout_message(schema: str, lock_timeout_ms: int) -> str:
    seconds = f"{lock_timeout_ms / 1000:g}"
    return (
        f"Publishing to Postgres schema {schema} gave up: a reader held a lock on its tables for longer than "
        f"{seconds} s; the published tables are unchanged; retry the publish once long-running queries end."
    )


def _first_line(error: psycopg2.Error) -> str:
    text = (error.diag.message_primary or str(error)).strip()
    return text.splitlines()[0] if text else type(error).__name__

"""The Postgres swap publish: BI views, grants and the reader role survive it; long BI queries make it give up
cleanly; a failure leaves the published marts exactly as they were."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

import psycopg2
import psycopg2.errors
import pytest
from psycopg2.extensions import connection

from clm.targets.pg_swap import (
    PublishLockTimeout,
    SwapResult,
    copy_comments,
    ensure_reader_role,
    swap_tables,
)
from tests.postgres_server import admin_connection, scratch_database

pytestmark = [pytest.mark.postgres]

V0 = [("c1", "smb", 10), ("c2", "enterprise", 0)]
V1 = [("c1", "smb", 20), ("c3", "smb", 5), ("c4", "mid_market", 0)]
V2 = [("c5", "enterprise", 50), ("c6", "smb", 7)]
CUSTOMER_COLUMNS = "customer_id text, segment text, mrr integer"


@dataclass
class Env:
    dbname: str
    admin: connection  # superuser, autocommit, in the scratch database
    roles: list[str] = field(default_factory=list)
    connections: list[connection] = field(default_factory=list)
    _reader: str | None = None

    def role(self, prefix: str, *, create: bool = True) -> str:
        """A cluster-wide role unique to this test, dropped by the fixture."""
        name = f"clm_t_{prefix}_{uuid.uuid4().hex[:8]}"
        self.roles.append(name)
        if create:
            run(self.admin, f'create role "{name}" login')
        return name

    @property
    def reader(self) -> str:
        if self._reader is None:
            self._reader = self.role("reader", create=False)  # swap_tables creates it
        return self._reader

    def connect(self, user: str | None = None, *, autocommit: bool = True) -> connection:
        conn = psycopg2.connect(
            host=os.environ.get("PGHOST") or "127.0.0.1", dbname=self.dbname, user=user, connect_timeout=5
        )
        conn.autocommit = autocommit
        self.connections.append(conn)
        return conn


@pytest.fixture
def pg() -> Iterator[Env]:
    roles: list[str] = []
    try:
        with scratch_database("clm_pg_swap") as dbname:
            env = Env(dbname, admin_connection(dbname), roles)
            try:
                yield env
            finally:
                for conn in env.connections:
                    conn.close()
                # Cascade: a schema an analyst owns may hold views that someone else owns.
                for role in roles:
                    if rows(env.admin, "select 1 from pg_roles where rolname = %s", (role,)):
                        run(env.admin, f'drop owned by "{role}" cascade')
                env.admin.close()
    finally:
        # Roles are cluster-wide: drop them even when the test or the cleanup above failed.
        server = admin_connection()
        try:
            for role in roles:
                run(server, f'drop role if exists "{role}"')
        finally:
            server.close()


def run(conn: connection, statement: str, params: tuple | None = None) -> None:
    with conn.cursor() as cur:
        cur.execute(statement, params)


def rows(conn: connection, query: str, params: tuple | None = None) -> list[tuple]:
    with conn.cursor() as cur:
        cur.execute(query, params)
        return cur.fetchall()


def ids(data: list[tuple], *, paying: bool = False) -> list[tuple]:
    return sorted((row[0],) for row in data if not paying or row[2] > 0)


def stage(env: Env, table: str, data: list[tuple], columns: str = CUSTOMER_COLUMNS) -> None:
    """What the caller does before the swap: a fresh copy in the staging schema, committed."""
    run(env.admin, "create schema if not exists stage")
    run(env.admin, f"create table stage.{table} ({columns})")
    if data:
        marks = ", ".join(["%s"] * len(data[0]))
        with env.admin.cursor() as cur:
            cur.executemany(f"insert into stage.{table} values ({marks})", data)


def publish(env: Env, data: list[tuple], *, columns: str = CUSTOMER_COLUMNS, **kwargs) -> SwapResult:
    stage(env, "dim_customers", data, columns)
    return swap_tables(
        env.admin,
        staged_schema="stage",
        live_schema="marts",
        tables=["dim_customers"],
        reader_role=env.reader,
        **kwargs,
    )


def live_ids(conn: connection) -> list[tuple]:
    return rows(conn, "select customer_id from marts.dim_customers order by 1")


def test_bi_views_in_any_schema_survive_two_swaps_and_show_the_new_data(pg: Env) -> None:
    analyst, viewer = pg.role("analyst"), pg.role("viewer")
    publish(pg, V0)
    run(pg.admin, f'grant usage on schema marts to "{analyst}"')
    run(pg.admin, f'grant select on marts.dim_customers to "{analyst}"')
    run(pg.admin, f'create schema bi authorization "{analyst}"')
    as_analyst = pg.connect(analyst)
    for statement in (
        "create view bi.active_customers as select customer_id, mrr from marts.dim_customers where mrr > 0",
        "create view bi.active_count as select count(*) as customers from bi.active_customers",
        "create materialized view bi.mrr_by_segment as "
        "select segment, sum(mrr) as mrr from marts.dim_customers group by segment",
        "create unique index mrr_by_segment_key on bi.mrr_by_segment (segment)",
        "comment on view bi.active_customers is 'customers paying now'",
        f'grant usage on schema bi to "{viewer}"',
        f'grant select on bi.active_customers, bi.active_count, bi.mrr_by_segment to "{viewer}"',
    ):
        run(as_analyst, statement)
    run(pg.admin, "create view marts.customer_count as select count(*) as n from marts.dim_customers")
    as_viewer = pg.connect(viewer)  # stays open across both swaps
    assert rows(as_viewer, "select customer_id from bi.active_customers") == [("c1",)]

    for data in (V1, V2):
        result = publish(pg, data)
        assert sorted(result.views_recreated) == [
            "bi.active_count",
            "bi.active_customers",
            "bi.mrr_by_segment",
            "marts.customer_count",
        ]
        assert result.views_dropped == []
        assert rows(as_viewer, "select customer_id from bi.active_customers order by 1") == ids(
            data, paying=True
        )
        assert rows(as_viewer, "select customers from bi.active_count") == [(len(ids(data, paying=True)),)]
        segments: dict[str, int] = {}
        for _, segment, mrr in data:
            segments[segment] = segments.get(segment, 0) + mrr
        assert rows(as_viewer, "select segment, mrr from bi.mrr_by_segment order by 1") == sorted(
            segments.items()
        )
        assert rows(pg.connect(viewer), "select customers from bi.active_count") == [
            (len(ids(data, paying=True)),)
        ]
        assert rows(pg.admin, "select n from marts.customer_count") == [(len(data),)]
        assert rows(
            pg.admin,
            "select pg_get_userbyid(relowner), obj_description(oid, 'pg_class') from pg_class "
            "where oid = 'bi.active_customers'::regclass",
        ) == [(analyst, "customers paying now")]
        assert rows(pg.admin, "select indexname from pg_indexes where schemaname = 'bi'") == [
            ("mrr_by_segment_key",)
        ]


def test_reader_role_reads_marts_and_audit_only_across_swaps(pg: Env) -> None:
    for statement in (
        "create schema audit",
        "create table audit.runs (run_id text, status text)",
        "insert into audit.runs values ('r0', 'published')",
        "create schema raw",
        "create table raw.contacts (email text)",
        "insert into raw.contacts values ('someone@example.com')",
        "create schema build_marts",
        f"create table build_marts.dim_customers ({CUSTOMER_COLUMNS})",
    ):
        run(pg.admin, statement)
    publish(pg, V0)  # creates the role: it can read the marts right away
    same = pg.connect(pg.reader)  # a BI tool's pooled connection, open across both swaps
    assert live_ids(same) == ids(V0)
    assert rows(pg.admin, "select rolcanlogin, rolsuper from pg_roles where rolname = %s", (pg.reader,)) == [
        (True, False)
    ]
    with pg.admin.cursor() as cur:
        ensure_reader_role(cur, pg.reader)  # marts and audit

    for version, data in enumerate((V1, V2), start=1):
        stage(pg, "dim_customers", data)
        stage(pg, "rpt_kpis", [(version,)], "version integer")  # a mart that is new in the first swap
        swap_tables(
            pg.admin,
            staged_schema="stage",
            live_schema="marts",
            tables=["dim_customers", "rpt_kpis"],
            reader_role=pg.reader,
        )
        for conn in (same, pg.connect(pg.reader)):
            assert live_ids(conn) == ids(data)
            assert rows(conn, "select version from marts.rpt_kpis") == [(version,)]
            assert rows(conn, "select run_id from audit.runs") == [("r0",)]
    for table in ("raw.contacts", "build_marts.dim_customers"):
        with pytest.raises(psycopg2.errors.InsufficientPrivilege, match="permission denied"):
            rows(same, f"select * from {table}")


def test_admin_grants_and_comments_on_a_replaced_mart_survive(pg: Env) -> None:
    analyst, auditor = pg.role("analyst"), pg.role("auditor")
    publish(pg, V0)
    for statement in (
        f'grant usage on schema marts to "{analyst}", "{auditor}"',
        f'grant select on marts.dim_customers to "{analyst}" with grant option',
        f'grant select (customer_id) on marts.dim_customers to "{auditor}"',
        "comment on table marts.dim_customers is 'one row per customer'",
        "comment on column marts.dim_customers.mrr is 'monthly recurring revenue'",
    ):
        run(pg.admin, statement)
    old_oid = rows(pg.admin, "select 'marts.dim_customers'::regclass::oid")

    publish(pg, V1)

    assert rows(pg.admin, "select 'marts.dim_customers'::regclass::oid") != old_oid  # really a new table
    assert live_ids(pg.connect(analyst)) == ids(V1)
    privileges = rows(
        pg.admin,
        "select has_table_privilege(%(a)s, 'marts.dim_customers', 'select with grant option'), "
        "has_column_privilege(%(u)s, 'marts.dim_customers', 'customer_id', 'select'), "
        "has_column_privilege(%(u)s, 'marts.dim_customers', 'mrr', 'select')",
        {"a": analyst, "u": auditor},
    )
    assert privileges == [(True, True, False)]
    assert rows(
        pg.admin,
        "select obj_description('marts.dim_customers'::regclass, 'pg_class'), "
        "col_description('marts.dim_customers'::regclass, 3)",
    ) == [("one row per customer", "monthly recurring revenue")]


def test_the_builds_comments_reach_the_staged_copy_and_win_over_the_old_ones(pg: Env) -> None:
    # What clm.targets.postgres publishes: CREATE TABLE AS from build_marts (no comments), then copy_comments
    # carries the ones dbt's persist_docs wrote there. An old comment fills only what the build left without.
    publish(pg, V0)
    run(pg.admin, "comment on table marts.dim_customers is 'old table text'")
    run(pg.admin, "comment on column marts.dim_customers.segment is 'old segment text'")
    run(pg.admin, "comment on column marts.dim_customers.mrr is 'old mrr text'")
    run(pg.admin, "create schema build_marts")
    run(pg.admin, f"create table build_marts.dim_customers ({CUSTOMER_COLUMNS})")
    run(pg.admin, "comment on table build_marts.dim_customers is 'One row per customer; it''s new.'")
    run(pg.admin, "comment on column build_marts.dim_customers.mrr is 'MRR in the reporting currency.'")
    run(pg.admin, "create schema stage")
    run(pg.admin, "create table stage.dim_customers as table build_marts.dim_customers")
    with pg.admin.cursor() as cur:
        copy_comments(cur, "build_marts", "stage", "dim_customers")

    swap_tables(
        pg.admin, staged_schema="stage", live_schema="marts", tables=["dim_customers"], reader_role=pg.reader
    )

    assert rows(
        pg.admin,
        "select obj_description('marts.dim_customers'::regclass, 'pg_class'), "
        "col_description('marts.dim_customers'::regclass, 1), "
        "col_description('marts.dim_customers'::regclass, 2), "
        "col_description('marts.dim_customers'::regclass, 3)",
    ) == [("One row per customer; it's new.", None, "old segment text", "MRR in the reporting currency.")]


def test_a_stale_mart_is_dropped_and_reported(pg: Env) -> None:
    stage(pg, "dim_customers", V0)
    stage(pg, "old_mart", [(1,)], "x integer")
    swap_tables(
        pg.admin,
        staged_schema="stage",
        live_schema="marts",
        tables=["dim_customers", "old_mart"],
        reader_role=pg.reader,
    )
    run(pg.admin, "create schema bi")
    run(pg.admin, "create view bi.old as select x from marts.old_mart")

    result = publish(pg, V1)

    assert result.stale_tables_dropped == ["old_mart"]
    assert rows(pg.admin, "select to_regclass('marts.old_mart')") == [(None,)]
    assert [name for name, _ in result.views_dropped] == ["bi.old"]
    assert live_ids(pg.admin) == ids(V1)


def test_a_long_bi_query_makes_the_swap_give_up_within_the_lock_timeout(pg: Env) -> None:
    publish(pg, V0)
    blocker = pg.connect(autocommit=False)
    assert live_ids(blocker) == ids(V0)  # its transaction stays open, holding AccessShareLock
    stage(pg, "dim_customers", V1)
    run(pg.admin, "set statement_timeout = 10000")  # without a lock timeout the swap would wait forever

    started = time.monotonic()
    with pytest.raises(PublishLockTimeout) as raised:
        swap_tables(
            pg.admin,
            staged_schema="stage",
            live_schema="marts",
            tables=["dim_customers"],
            reader_role=pg.reader,
            lock_timeout_ms=500,
        )
    assert time.monotonic() - started < 5
    message = str(raised.value)
    assert "\n" not in message
    for part in ("schema marts", "longer than 0.5 s", "unchanged", "retry"):
        assert part in message

    assert live_ids(blocker) == ids(V0)  # the reader was not disturbed
    blocker.rollback()
    assert live_ids(pg.admin) == ids(V0)
    assert pg.admin.autocommit
    # The staged copy is still there, so a retry needs no rebuild.
    swap_tables(
        pg.admin, staged_schema="stage", live_schema="marts", tables=["dim_customers"], reader_role=pg.reader
    )
    assert live_ids(pg.admin) == ids(V1)


def test_a_view_that_no_longer_compiles_is_reported_and_the_swap_succeeds(pg: Env) -> None:
    publish(pg, V0)
    run(pg.admin, "create schema bi")
    run(pg.admin, "create view bi.by_segment as select customer_id, segment from marts.dim_customers")
    run(pg.admin, "create view bi.paying as select customer_id from marts.dim_customers where mrr > 0")

    result = publish(pg, [(c, m) for c, _, m in V1], columns="customer_id text, mrr integer")

    assert [name for name, _ in result.views_dropped] == ["bi.by_segment"]
    assert "segment" in result.views_dropped[0][1]
    assert result.views_recreated == ["bi.paying"]
    assert rows(pg.admin, "select to_regclass('bi.by_segment')") == [(None,)]
    assert rows(pg.admin, "select customer_id from bi.paying order by 1") == ids(V1, paying=True)


def test_before_commit_runs_inside_the_swap_transaction(pg: Env) -> None:
    run(pg.admin, "create schema audit")
    run(pg.admin, "create table audit.runs (run_id text, status text)")
    publish(pg, V0)
    old_oid = rows(pg.admin, "select 'marts.dim_customers'::regclass::oid")
    observer = pg.connect()
    run(observer, "set statement_timeout = 5000")
    seen: dict[str, list[tuple]] = {}

    def mark_published(cur) -> None:
        cur.execute("insert into audit.runs values ('r1', 'published')")
        cur.execute("select customer_id from marts.dim_customers order by 1")
        seen["marts inside"] = cur.fetchall()
        # Another session still sees the old table (a name lookup takes no lock) and no run row.
        seen["table outside"] = rows(observer, "select to_regclass('marts.dim_customers')::oid")
        seen["runs outside"] = rows(observer, "select run_id from audit.runs")

    publish(pg, V1, before_commit=mark_published)

    assert seen == {"marts inside": ids(V1), "table outside": old_oid, "runs outside": []}
    assert rows(observer, "select run_id, status from audit.runs") == [("r1", "published")]


def test_a_failing_before_commit_leaves_marts_views_and_audit_unchanged(pg: Env) -> None:
    run(pg.admin, "create schema audit")
    run(pg.admin, "create table audit.runs (run_id text, status text)")
    publish(pg, V0)
    run(pg.admin, "create schema bi")
    run(pg.admin, "create view bi.everyone as select customer_id from marts.dim_customers")
    old_oid = rows(pg.admin, "select 'marts.dim_customers'::regclass::oid")

    def fail(cur) -> None:
        cur.execute("insert into audit.runs values ('r1', 'published')")
        raise RuntimeError("audit write failed")

    with pytest.raises(RuntimeError, match="audit write failed"):
        publish(pg, V1, before_commit=fail)

    assert rows(pg.admin, "select 'marts.dim_customers'::regclass::oid") == old_oid
    assert live_ids(pg.admin) == ids(V0)
    assert rows(pg.admin, "select customer_id from bi.everyone order by 1") == ids(V0)
    assert rows(pg.admin, "select count(*) from audit.runs") == [(0,)]
    assert rows(pg.admin, "select count(*) from stage.dim_customers") == [(len(V1),)]


def test_a_table_missing_from_the_staging_schema_fails_before_touching_marts(pg: Env) -> None:
    publish(pg, V0)
    stage(pg, "dim_customers", V1)
    with pytest.raises(ValueError, match="not staged in schema stage: fct_missing"):
        swap_tables(
            pg.admin,
            staged_schema="stage",
            live_schema="marts",
            tables=["dim_customers", "fct_missing"],
            reader_role=pg.reader,
        )
    assert live_ids(pg.admin) == ids(V0)

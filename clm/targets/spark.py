"""The Spark target (issue 16): `clm run --target spark`, through one Spark Thrift server for the whole run.

The way clm talks to a cluster, locally too: every dbt command of a run and clm's own steps share one Thrift
server and its catalog (Spark's in-process session keeps an embedded Derby metastore that only one process
may open), the user's (``CLM_SPARK_HOST``/``CLM_SPARK_PORT``) or a local one that ``clm run`` starts and stops
(``clm.targets.spark_server``). What runs where:

1. ingestion stays the DuckDB ingester (validation, quarantine, load manifest in the DuckDB build file, as on
   every target); ``prepare_build`` exports its raw tables as Parquet under ``CLM_DATA_DIR/spark/files`` and
   registers them as the Spark tables ``raw.<table>`` (README "Spark": why, measured, and at 100x);
2. dbt builds through the Thrift server into the databases ``build_staging``, ``build_intermediate``,
   ``build_marts``, ``build_reference``, ``build_clv`` (var ``schema_prefix``);
3. the CLV fits read their inputs from ``build_intermediate`` and write ``build_clv`` (Parquet, then a typed
   table);
4. the gate runs its suites on Spark (``gate_warehouse``, PyHive's ``hive://`` SQLAlchemy dialect);
5. publishing copies the declared marts and the audit tables into partition ``clm_version=<n>`` of tables in
   the database ``clm_serving``, and BI reads the views ``marts.<mart>`` and ``audit.<table>``, each of which
   selects the partition that one pointer view names (``clm_serving.current_version``). The switch is ONE
   catalog operation (``alter view clm_serving.current_version``): a query resolves the pointer
   once and sees the old version of every mart or the new one, never a mix. Older versions are dropped one
   publish later, so a query that started on the previous version finishes on it.

The PII hash needs no session function: macro spark__clm_pii_hash computes HMAC-SHA256 with sha2() from two
session settings (clm.pii.spark_pad_env; profiles.yml gives them to dbt's Thrift sessions as
set:hiveconf:<key>), so the key is in no compiled SQL.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from clm.targets import Target
from clm.targets.spark_server import Endpoint, endpoint_path, read_endpoint

if TYPE_CHECKING:  # pyspark is the optional extra `spark`, and slow to import
    import pandas as pd

RAW_SCHEMA = "raw"
BUILD_PREFIX = "build_"
SERVING_DB = "clm_serving"
POINTER_VIEW = f"{SERVING_DB}.current_version"
VERSION_COLUMN = "clm_version"
SHAPE_CHARS = 12  # hex digits of the column list's hash in a serving table's name
PUBLISHED = ("marts", "audit")
# Session settings of clm's own connections, as profiles.yml gives dbt's (UTC wall time; division by zero and
# overflow give null, as dbt-spark asks). A Thrift server applies only those named set:hiveconf:<key>.
THRIFT_SESSION = {
    "set:hiveconf:spark.sql.session.timeZone": "UTC",
    "set:hiveconf:spark.sql.ansi.enabled": "false",
}
# The run ids BI reads as published, kept beside the local server's catalog: `clm run` asks before it starts
# any server whether anything is new (clm.inputs.unchanged_since).
PUBLISHED_RUNS_FILE = "published_runs.json"


def session_settings(spark_dir: Path) -> dict[str, str]:
    """Spark settings of profiles.yml's spark output (server_side_parameters) for the catalog in
    ``spark_dir``: the local Thrift server starts with them (clm.targets.spark_server)."""
    return {
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.warehouse.dir": str(spark_dir / "warehouse"),
        "spark.hadoop.javax.jdo.option.ConnectionURL": (
            f"jdbc:derby:;databaseName={spark_dir / 'metastore_db'};create=true"
        ),
        "spark.driver.extraJavaOptions": f"-Dderby.system.home={spark_dir}",
        "spark.ui.enabled": "false",
        # dbt-spark sets it so on every connection: division by zero and overflows give null, not an error.
        "spark.sql.ansi.enabled": "false",
    }


def _raw_tables(duck: duckdb.DuckDBPyConnection) -> list[str]:
    rows = duck.execute(
        "select table_name from information_schema.tables where table_schema = ? order by 1", [RAW_SCHEMA]
    ).fetchall()
    return [name for (name,) in rows]


# ------------------------------------------------------------------------------------------ Thrift access
@contextlib.contextmanager
def thrift_connection(endpoint: Endpoint, configuration: dict[str, str] | None = None) -> Iterator[Any]:
    """A PyHive connection to the Thrift server at ``endpoint`` (SASL PLAIN, no password: a local server or
    a cluster's gateway without authentication), with clm's session settings."""
    from pyhive import hive

    conn = hive.connect(
        host=endpoint.host,
        port=endpoint.port,
        username=os.environ.get("USER") or "clm",
        configuration={**THRIFT_SESSION, **(configuration or {})},
    )
    try:
        yield conn
    finally:
        with contextlib.suppress(Exception):
            conn.close()


def _convert(type_code: str | None, value: object) -> object:
    """PyHive gives DATE as text (DECIMAL and TIMESTAMP it converts itself)."""
    if value is not None and type_code == "DATE_TYPE" and isinstance(value, str):
        return date.fromisoformat(value)
    return value


def fetch(cursor: Any, sql: str) -> list[tuple]:
    """Rows of ``sql``, typed as DuckDB gives them: Decimal, date, datetime, str, int, float, bool."""
    cursor.execute(sql)
    if cursor.description is None:
        return []
    types = [column[1] for column in cursor.description]
    return [tuple(_convert(t, v) for t, v in zip(types, row, strict=True)) for row in cursor.fetchall()]


def _ident(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def _literal(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def table_names(cursor: Any, database: str) -> list[str]:
    """Tables and views of ``database`` (none when it does not exist)."""
    try:
        rows = fetch(cursor, f"show tables in {_ident(database)}")
    except Exception as error:  # pyhive's OperationalError, with Spark's message inside
        if "SCHEMA_NOT_FOUND" in str(error) or "not found" in str(error).lower():
            return []
        raise
    return sorted(name for _db, name, temporary in rows if not temporary)


def columns(cursor: Any, relation: str) -> list[tuple[str, str]]:
    """(name, Spark type) of ``relation``'s columns, in order (DESCRIBE up to its first blank or # row)."""
    found = []
    for name, kind, *_ in fetch(cursor, f"describe {relation}"):
        if not name or name.startswith("#"):
            break
        found.append((name, kind))
    return found


# Spark types of the CLV outputs' SQL types (clm.clv.pipeline)
_SPARK_TYPES = {
    "varchar": "string",
    "integer": "int",
    "boolean": "boolean",
    "double precision": "double",
    "timestamp": "timestamp",
}


def _versions(cur: Any, table: str) -> list[int]:
    rows = fetch(cur, f"show partitions {SERVING_DB}.{_ident(table)}")
    return [int(spec.split("=", 1)[1]) for (spec,) in rows]


@dataclass
class _Catalog:
    """What clm_serving, marts and audit hold, listed once when a publish starts and kept current by the
    publish itself: each listing is a Thrift round trip, which a cluster's metastore makes slow."""

    names: dict[str, set[str]]  # database -> its tables and views (lower case, as Spark stores them)
    versions: dict[str, list[int]] = field(default_factory=dict)  # clm_serving table -> versions it holds

    @classmethod
    def read(cls, cur: Any) -> _Catalog:
        names = {database: set(table_names(cur, database)) for database in (SERVING_DB, *PUBLISHED)}
        versions = {table: _versions(cur, table) for table in names[SERVING_DB] if table != "current_version"}
        return cls(names, versions)

    def set_view(self, cur: Any, database: str, name: str, select: str) -> None:
        """Point view ``database.name`` at ``select``. An existing view is altered in place (ALTER VIEW: one
        metastore update), never replaced: Spark's CREATE OR REPLACE VIEW drops the view and creates it
        again, and a reader querying in between gets TABLE_OR_VIEW_NOT_FOUND (seen by the reader test in
        CI)."""
        exists = name.lower() in self.names[database]
        cur.execute(f"{'alter' if exists else 'create'} view {database}.{_ident(name)} as {select}")
        self.names[database].add(name.lower())


class SparkTargetError(RuntimeError):
    """The Spark target cannot go on; the message says what is missing."""


class SparkTarget(Target):
    name = "spark"

    # -------------------------------------------------------------------------------- where and how
    @property
    def spark_dir(self) -> Path:
        return self.settings.spark_dir

    @property
    def files_dir(self) -> Path:
        """Parquet files the server reads (raw tables, CLV results): for a remote server this path must be
        one it reads too (a shared filesystem), README "Spark"."""
        return self.spark_dir / "files"

    def endpoint(self) -> Endpoint:
        if self.settings.spark_host:
            return Endpoint(self.settings.spark_host, self.settings.spark_port)
        found = read_endpoint(self.spark_dir)
        if found is None:
            raise SparkTargetError(
                "no Spark Thrift server for --target spark: set CLM_SPARK_HOST (and CLM_SPARK_PORT) to a "
                "running server's, or use `clm run --target spark`, which starts a local one for the run"
            )
        return found

    @contextlib.contextmanager
    def cursor(self) -> Iterator[Any]:
        with thrift_connection(self.endpoint()) as conn:
            cursor = conn.cursor()
            try:
                yield cursor
            finally:
                with contextlib.suppress(Exception):
                    cursor.close()

    def dbt_vars(self) -> dict[str, str]:
        # Build beside the published databases; publishing copies the declared marts out of build_marts.
        return {"schema_prefix": BUILD_PREFIX}

    def dbt_env(self) -> dict[str, str]:
        from clm.pii import spark_pad_env

        endpoint = self.endpoint()
        return {
            "CLM_SPARK_METHOD": "thrift",
            "CLM_SPARK_HOST": endpoint.host,
            "CLM_SPARK_PORT": str(endpoint.port),
            "CLM_SPARK_DIR": str(self.spark_dir),
        } | spark_pad_env(self.settings.pii_key)

    # -------------------------------------------------------------------------------- build
    def _fresh_dir(self, kind: str) -> Path:
        """A new folder for this step's Parquet files; earlier ones of the same kind are removed once the
        tables point at the new one (``_remove_older``)."""
        path = self.files_dir / kind / str(time.time_ns())
        path.mkdir(parents=True)
        return path

    @staticmethod
    def _remove_older(current: Path) -> None:
        for other in current.parent.iterdir():
            if other != current:
                shutil.rmtree(other, ignore_errors=True)

    preparing = "exporting the raw tables to Spark as Parquet"

    def prepare_build(self) -> str:
        """The DuckDB build file's raw tables as Parquet, registered as Spark's raw.<table>."""
        from clm.warehouse import connect_build

        target_dir = self._fresh_dir("raw")
        counts: dict[str, int] = {}
        with connect_build(self.settings, read_only=True) as duck, self.cursor() as cur:
            cur.execute(f"create database if not exists {RAW_SCHEMA}")
            for table in _raw_tables(duck):
                path = target_dir / f"{table}.parquet"
                duck.execute(f"copy {RAW_SCHEMA}.\"{table}\" to '{path}' (format parquet)")
                counts[table] = duck.execute(f'select count(*) from {RAW_SCHEMA}."{table}"').fetchall()[0][0]
                cur.execute(f"drop table if exists {RAW_SCHEMA}.{_ident(table)}")
                cur.execute(
                    f"create table {RAW_SCHEMA}.{_ident(table)} using parquet location {_literal(str(path))}"
                )
        self._remove_older(target_dir)
        return f"registered {len(counts)} raw tables ({sum(counts.values()):,} rows) on Spark as Parquet"

    def gate_warehouse(self):
        from expectations.checkpoint import spark_warehouse

        endpoint = self.endpoint()
        return spark_warehouse(endpoint.host, endpoint.port, BUILD_PREFIX, THRIFT_SESSION)

    def read_clv_inputs(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        import pandas as pd

        from clm.clv import store

        frames = []
        with self.cursor() as cur:
            for sql in store.input_queries(BUILD_PREFIX):
                rows = fetch(cur, sql)
                frames.append(pd.DataFrame(rows, columns=[c[0].split(".")[-1] for c in cur.description]))
        return store._typed_inputs(*frames)

    def write_clv_results(self, frames: dict[str, pd.DataFrame]) -> None:
        """build_clv.<table>: each frame written as Parquet, copied into a table of the declared types."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        from clm.clv import store

        target_dir = self._fresh_dir("clv")
        schema = f"{BUILD_PREFIX}clv"
        with self.cursor() as cur:
            cur.execute(f"create database if not exists {schema}")
            for table, spec in store.OUTPUTS.items():
                frame = frames[table][[name for name, _ in spec]]
                path = target_dir / f"{table}.parquet"
                # microseconds: Spark reads no nanosecond Parquet timestamps
                table_data = pa.Table.from_pandas(frame, preserve_index=False)
                pq.write_table(table_data, path, coerce_timestamps="us", allow_truncated_timestamps=True)
                body = ", ".join(f"{_ident(name)} {_SPARK_TYPES[kind]}" for name, kind in spec)
                select = ", ".join(f"cast({_ident(name)} as {_SPARK_TYPES[kind]})" for name, kind in spec)
                cur.execute(f"drop table if exists {schema}.{table}")
                cur.execute(f"create table {schema}.{table} ({body}) using parquet")
                cur.execute(f"insert into {schema}.{table} select {select} from parquet.{_ident(str(path))}")
        shutil.rmtree(target_dir, ignore_errors=True)

    def built_marts(self) -> list[str]:
        with self.cursor() as cur:
            return table_names(cur, BUILD_PREFIX + "marts")

    def marts_fingerprint(self, marts: Sequence[str]) -> str:
        digest = hashlib.sha256()
        with self.cursor() as cur:
            for name in sorted(marts):
                # xxhash64 of the whole row, xor-ed: independent of row order, as on DuckDB
                ((count, rows),) = fetch(
                    cur,
                    "select count(*), coalesce(bit_xor(xxhash64(*)), 0) "
                    f"from {BUILD_PREFIX}marts.{_ident(name)}",
                )
                digest.update(f"{name}\0{count}\0{rows}\n".encode())
        return digest.hexdigest()

    # -------------------------------------------------------------------------------- publish
    def _pointer(self, cur: Any, catalog: _Catalog | None = None) -> tuple[int, int] | None:
        """(marts version, audit version) that BI reads now; None before the first publish."""
        serving = catalog.names[SERVING_DB] if catalog else table_names(cur, SERVING_DB)
        if "current_version" not in serving:
            return None
        ((marts, audit),) = fetch(cur, f"select marts_version, audit_version from {POINTER_VIEW}")
        return int(marts), int(audit)

    def _next_version(self, cur: Any) -> tuple[int, tuple[int, int], _Catalog]:
        """The version to publish, the pointer's versions, and the catalog they were read from."""
        for database in (SERVING_DB, *PUBLISHED):
            cur.execute(f"create database if not exists {database}")
        catalog = _Catalog.read(cur)
        pointer = self._pointer(cur, catalog)
        if pointer is None:
            pointer = (0, 0)
            catalog.set_view(
                cur, SERVING_DB, "current_version", "select 0 as marts_version, 0 as audit_version"
            )
        newest = max([*pointer, *(v for versions in catalog.versions.values() for v in versions)])
        return newest + 1, pointer, catalog

    def _stage(
        self, cur: Any, catalog: _Catalog, kind: str, name: str, source: str, version: int, current: int
    ) -> int:
        """Copy ``source`` into partition ``version`` of clm_serving.<kind>__<name>__<schema hash> and point
        the view <kind>.<name> at that table's current partition (the pointer still names ``current``)."""
        cols = [(c, "timestamp" if t == "timestamp_ntz" else t) for c, t in columns(cur, source)]
        shape = hashlib.sha256(json.dumps(cols).encode()).hexdigest()[:SHAPE_CHARS]
        table = f"{kind}__{name}__{shape}"
        body = ", ".join(f"{_ident(c)} {t}" for c, t in cols)
        cur.execute(
            f"create table if not exists {SERVING_DB}.{_ident(table)} ({body}, {VERSION_COLUMN} int) "
            f"using parquet partitioned by ({VERSION_COLUMN})"
        )
        select = ", ".join(f"cast({_ident(c)} as {t})" for c, t in cols)
        cur.execute(
            f"insert overwrite table {SERVING_DB}.{_ident(table)} partition ({VERSION_COLUMN} = {version}) "
            f"select {select} from {source}"
        )
        catalog.versions.setdefault(table.lower(), []).append(version)
        names = ", ".join(_ident(c) for c, _ in cols)
        pointer = f"{VERSION_COLUMN} = (select {kind}_version from {POINTER_VIEW})"
        branches = [f"select {names} from {SERVING_DB}.{_ident(table)} where {pointer}"]
        # A mart whose columns changed (a code upgrade) has a new table that holds no version BI reads yet:
        # until the switch, the view reads that version from the older shape's table, in the new columns
        # (new ones null; try_cast, so a reader's ANSI session cannot fail on a changed type). After the
        # switch the older branch selects nothing, and the next publish drops it.
        for older in _older_shapes(catalog, kind, name, table, current):
            had = {column for column, _ in columns(cur, f"{SERVING_DB}.{_ident(older)}")}
            mapped = ", ".join(
                f"try_cast({_ident(c) if c in had else 'null'} as {t}) as {_ident(c)}" for c, t in cols
            )
            branches.append(f"select {mapped} from {SERVING_DB}.{_ident(older)} where {pointer}")
        catalog.set_view(cur, kind, name, " union all ".join(branches))
        ((count,),) = fetch(cur, f"select count(*) from {source}")
        return int(count)

    def _stage_audit(
        self, cur: Any, catalog: _Catalog, version: int, current: int, published_run: tuple[str, str] | None
    ) -> dict[str, int]:
        """The DuckDB build's audit tables (the run marked published in the copy, as on DuckDB)."""
        from clm.warehouse import connect_build

        target_dir = self._fresh_dir("audit")
        counts = {}
        with connect_build(self.settings, read_only=True) as duck:
            tables = [
                name
                for (name,) in duck.execute(
                    "select table_name from information_schema.tables where table_schema = 'audit' order by 1"
                ).fetchall()
            ]
            for table in tables:
                path = target_dir / f"{table}.parquet"
                query = f'select * from audit."{table}"'
                if table == "runs" and published_run is not None:
                    run_id, message = published_run
                    found = duck.execute("select count(*) from audit.runs where run_id = ?", [run_id])
                    if found.fetchall()[0][0] != 1:
                        raise RuntimeError(f"publish: run {run_id} has no row in the build's audit.runs")
                    this = f"run_id = {_duck_literal(run_id)}"
                    query = (
                        "select * replace ("
                        f"case when {this} then 'published' else status end as status, "
                        f"case when {this} then now()::timestamp else finished_at end as finished_at, "
                        f"case when {this} then {_duck_literal(message)} else message end as message"
                        ") from audit.runs"
                    )
                duck.execute(f"copy ({query}) to '{path}' (format parquet)")
                view = f"clm_audit_{table}"
                cur.execute(
                    f"create or replace temporary view {view} using parquet "
                    f"options (path {_literal(str(path))})"
                )
                counts[f"audit.{table}"] = self._stage(cur, catalog, "audit", table, view, version, current)
        shutil.rmtree(target_dir, ignore_errors=True)  # copied into clm_serving
        return counts

    @staticmethod
    def _switch(
        cur: Any, catalog: _Catalog, marts_version: int, audit_version: int, kept: tuple[int, int]
    ) -> None:
        """The one catalog operation that publishes; then versions older than the previous one go."""
        catalog.set_view(
            cur,
            SERVING_DB,
            "current_version",
            f"select {marts_version} as marts_version, {audit_version} as audit_version",
        )
        keep = {marts_version, audit_version, *kept}
        for table, versions in catalog.versions.items():
            for version in [v for v in versions if v not in keep and v < max(keep)]:
                cur.execute(
                    f"alter table {SERVING_DB}.{_ident(table)} drop if exists partition "
                    f"({VERSION_COLUMN} = {version})"
                )
                versions.remove(version)

    @staticmethod
    def _drop_views(cur: Any, catalog: _Catalog, kind: str, keep: set[str]) -> None:
        for name in sorted(catalog.names[kind] - {name.lower() for name in keep}):
            cur.execute(f"drop view if exists {kind}.{_ident(name)}")
            catalog.names[kind].discard(name)

    def publish(self, marts: Sequence[str], run_id: str, message: str) -> dict[str, int]:
        with self.cursor() as cur:
            version, previous, catalog = self._next_version(cur)
            counts = {
                f"marts.{name}": self._stage(
                    cur, catalog, "marts", name, f"{BUILD_PREFIX}marts.{_ident(name)}", version, previous[0]
                )
                for name in marts
            }
            counts |= self._stage_audit(cur, catalog, version, previous[1], (run_id, message))
            self._switch(cur, catalog, version, version, previous)
            self._drop_views(cur, catalog, "marts", set(marts))
            self._drop_views(
                cur, catalog, "audit", {name.split(".", 1)[1] for name in counts if name.startswith("audit.")}
            )
            self._remember_published(cur)
        return counts

    def publish_audit(self) -> None:
        with self.cursor() as cur:
            version, previous, catalog = self._next_version(cur)
            self._stage_audit(cur, catalog, version, previous[1], None)
            self._switch(cur, catalog, previous[0], version, previous)
            self._remember_published(cur)

    def _remember_published(self, cur: Any) -> None:
        runs = sorted(
            run_id for (run_id,) in fetch(cur, "select run_id from audit.runs where status = 'published'")
        )
        (self.spark_dir / PUBLISHED_RUNS_FILE).write_text(json.dumps(runs))

    # -------------------------------------------------------------------------------- what BI reads
    def published_marts(self) -> list[tuple[str, int]]:
        with self.cursor() as cur:
            if self._pointer(cur) in (None, (0, 0)):
                return []
            return [
                (name, int(fetch(cur, f"select count(*) from marts.{_ident(name)}")[0][0]))
                for name in table_names(cur, "marts")
            ]

    def _published_audit(self, sql: str) -> list[tuple]:
        with self.cursor() as cur:
            if "runs" not in table_names(cur, "audit"):
                return []
            return fetch(cur, sql)

    def published_runs(self) -> set[str]:
        from clm.targets import PUBLISHED_RUNS_SQL

        if not self.settings.spark_host and read_endpoint(self.spark_dir) is None:
            # No server runs between local runs: what the last publish recorded beside its catalog.
            path = self.spark_dir / PUBLISHED_RUNS_FILE
            return set(json.loads(path.read_text())) if path.is_file() else set()
        return {run_id for (run_id,) in self._published_audit(PUBLISHED_RUNS_SQL)}

    def published_as_of(self) -> date | None:
        from clm.targets import PUBLISHED_AS_OF_SQL

        rows = self._published_audit(PUBLISHED_AS_OF_SQL)
        return rows[0][0] if rows else None

    def location(self) -> str:
        where = (
            f"the Spark Thrift server {self.settings.spark_host}:{self.settings.spark_port}"
            if self.settings.spark_host
            else f"the local Spark catalog in {self.spark_dir} (served while clm run --target spark runs)"
        )
        return f"Spark databases marts and audit, {where}"

    def clean_leftovers(self) -> list[str]:
        """A killed publish's partitions (newer than the pointer) and stray Parquet folders."""
        removed: list[str] = []
        with self.cursor() as cur:
            pointer = self._pointer(cur)
            if pointer is not None:
                for table in table_names(cur, SERVING_DB):
                    if table == "current_version":
                        continue
                    for version in _versions(cur, table):
                        if version > max(pointer):
                            cur.execute(
                                f"alter table {SERVING_DB}.{_ident(table)} drop if exists partition "
                                f"({VERSION_COLUMN} = {version})"
                            )
                            removed.append(f"{SERVING_DB}.{table} partition {VERSION_COLUMN}={version}")
        for kind in ("audit", "clv"):
            folder = self.files_dir / kind
            if folder.is_dir():
                for stray in folder.iterdir():
                    shutil.rmtree(stray, ignore_errors=True)
                    removed.append(str(stray))
        return removed


def _older_shapes(catalog: _Catalog, kind: str, name: str, table: str, current: int) -> list[str]:
    """Tables of other shapes of <kind>.<name> that hold the version BI reads now."""
    prefix = f"{kind}__{name}__".lower()
    return sorted(
        other
        for other, versions in catalog.versions.items()
        if other.startswith(prefix)
        and len(other) == len(prefix) + SHAPE_CHARS
        and other != table.lower()
        and current in versions
    )


def _duck_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


__all__ = ["SparkTarget", "SparkTargetError", "endpoint_path", "fetch", "thrift_connection"]

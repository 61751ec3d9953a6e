"""Atomic publish: copies, replaces, never leaves a half-written or mixed serving file."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from clm import publish as publish_module
from clm import runs
from clm.config import load_settings
from clm.gate import run_gate
from clm.publish import publish_audit
from tests.gate.builders import GOOD_CUSTOMERS, HASH_A, build_db

SETTINGS = load_settings({})  # no CLM_* limits


def publish(build: Path, serving: Path, marts: list[str] | None = None, published_run=None):
    """Publish ``marts`` (default: every table and view in the build's marts schema) and the audit."""
    if marts is None:
        marts = [
            name
            for (name,) in query(
                build,
                "select table_name from information_schema.tables where table_schema = 'marts' order by 1",
            )
        ]
    return publish_module.publish(build, serving, SETTINGS, marts=marts, published_run=published_run)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def columns(db: Path, schema: str, table: str) -> list[tuple[str, str]]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(
            "select column_name, data_type from information_schema.columns "
            "where table_schema = ? and table_name = ? order by ordinal_position",
            [schema, table],
        ).fetchall()


def query(db: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).fetchall()


def make_build(path: Path, version: int = 1) -> Path:
    """marts: `a` (1 row) and `b` (version rows), both carrying the version; a view; audit.runs; a staging
    table that must not be published."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    with duckdb.connect(str(path)) as con:
        con.execute(
            f"""
            create schema marts; create schema audit; create schema staging;
            create table marts.a (
                version integer, amount decimal(18, 2), month date, seen_at timestamp, ok boolean
            );
            insert into marts.a values
                ({version}, 12.34, date '2024-05-01', timestamp '2024-05-02 03:04:05', true);
            create table marts.b as
                select {version}::integer as version, range::bigint as n from range({version});
            create view marts.a_view as select version, amount * 2 as double_amount from marts.a;
            create table audit.runs (run_id varchar, status varchar);
            insert into audit.runs values ('r{version}', 'published'), ('r0', 'blocked');
            create table staging.stg_x as select 1 as x;
            """
        )
    return path


def leftovers(directory: Path, serving: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p != serving)


def test_publish_copies_tables_views_rows_and_types(tmp_path: Path):
    build = make_build(tmp_path / "build" / "clm.duckdb", version=3)
    serving = tmp_path / "serve" / "serving.duckdb"

    result = publish(build, serving)

    assert result.tables == {"audit.runs": 2, "marts.a": 1, "marts.a_view": 1, "marts.b": 3}
    assert result.rows == 7
    assert (
        columns(serving, "marts", "a")
        == columns(build, "marts", "a")
        == [
            ("version", "INTEGER"),
            ("amount", "DECIMAL(18,2)"),
            ("month", "DATE"),
            ("seen_at", "TIMESTAMP"),
            ("ok", "BOOLEAN"),
        ]
    )
    assert columns(serving, "marts", "a_view") == [("version", "INTEGER"), ("double_amount", "DECIMAL(18,2)")]
    # The view is materialized (serving needs no build file); staging is not published.
    assert query(serving, "select table_schema, table_name, table_type from information_schema.tables") == [
        ("audit", "runs", "BASE TABLE"),
        ("marts", "a", "BASE TABLE"),
        ("marts", "a_view", "BASE TABLE"),
        ("marts", "b", "BASE TABLE"),
    ]
    assert query(serving, "select * from marts.a_view") == [(3, Decimal("24.68"))]
    assert leftovers(serving.parent, serving) == []  # no temp file, no WAL


def test_publish_leaves_the_build_file_untouched(tmp_path: Path):
    build = make_build(tmp_path / "build.duckdb")
    before = sha256(build)
    publish(build, tmp_path / "serving.duckdb")
    assert sha256(build) == before


def test_second_publish_replaces_everything(tmp_path: Path):
    build = make_build(tmp_path / "build.duckdb", version=1)
    serving = tmp_path / "serve" / "serving.duckdb"
    publish(build, serving)

    make_build(build, version=5)
    with duckdb.connect(str(build)) as con:
        con.execute("drop view marts.a_view")
    result = publish(build, serving)

    assert result.tables == {"audit.runs": 2, "marts.a": 1, "marts.b": 5}
    assert query(serving, "select version, count(*) from marts.b group by version") == [(5, 5)]
    tables = query(serving, "select table_name from information_schema.tables order by all")
    assert tables == [("a",), ("b",), ("runs",)]
    assert leftovers(serving.parent, serving) == []


def test_failure_mid_copy_leaves_serving_byte_identical(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    build = make_build(tmp_path / "build.duckdb", version=1)
    serving = tmp_path / "serve" / "serving.duckdb"
    publish(build, serving)
    before = sha256(serving)
    make_build(build, version=2)

    copy = publish_module._copy_tables
    copied: list[str] = []

    def copy_then_fail(con: duckdb.DuckDBPyConnection, alias: str, schema: str, names) -> dict[str, int]:
        if copied:
            raise OSError("disk full")
        copied.extend(names)
        return copy(con, alias, schema, names)

    monkeypatch.setattr(publish_module, "_copy_tables", copy_then_fail)
    with pytest.raises(OSError, match="disk full"):
        publish(build, serving)

    assert copied == ["a", "a_view", "b"]  # the failure came after the marts were written to the temp file
    assert sha256(serving) == before
    assert leftovers(serving.parent, serving) == []
    assert query(serving, "select version from marts.a") == [(1,)]


def test_failed_first_publish_creates_no_serving_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    def fail(*_args: object) -> int:
        raise RuntimeError("boom")

    monkeypatch.setattr(publish_module, "_copy_tables", fail)
    serving = tmp_path / "serve" / "serving.duckdb"
    with pytest.raises(RuntimeError):
        publish(make_build(tmp_path / "build.duckdb"), serving)
    assert list(serving.parent.iterdir()) == []


def test_stale_wal_beside_serving_is_removed(tmp_path: Path):
    serving = tmp_path / "serving.duckdb"
    wal = tmp_path / "serving.duckdb.wal"
    wal.write_bytes(b"left over by a crashed writer")

    publish(make_build(tmp_path / "build.duckdb", version=2), serving)

    assert not wal.exists()
    assert query(serving, "select version from marts.a") == [(2,)]


READER = r"""
import json, sys, time
from pathlib import Path
import duckdb

serving, ready, stop = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
reads, errors, mixed, versions = 0, [], [], []
while not stop.exists():
    try:
        with duckdb.connect(str(serving), read_only=True) as con:
            a = con.execute("select version from marts.a").fetchone()[0]
            b_version, b_rows = con.execute("select min(version), count(*) from marts.b").fetchone()
    except Exception as exc:  # any error is a failure of atomic publish
        errors.append(repr(exc))
        continue
    reads += 1
    if not (a == b_version == b_rows):
        mixed.append((a, b_version, b_rows))
    if not versions or versions[-1] != a:
        versions.append(a)
    ready.touch()
print(json.dumps({"reads": reads, "errors": errors[:5], "mixed": mixed[:5], "versions": versions}))
"""


def test_reader_in_another_process_never_sees_a_mixed_or_broken_file(tmp_path: Path):
    build = tmp_path / "build" / "clm.duckdb"
    serving = tmp_path / "serve" / "serving.duckdb"
    publish(make_build(build, version=1), serving)
    ready, stop = tmp_path / "ready", tmp_path / "stop"
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(serving), str(ready), str(stop)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while not ready.exists():
            assert reader.poll() is None, reader.communicate()
            assert time.monotonic() < deadline, "reader never read the serving file"
            time.sleep(0.01)
        for version in range(2, 22):
            publish(make_build(build, version=version), serving)
            time.sleep(0.02)  # let the reader open some of the versions
    finally:
        stop.touch()
        out, err = reader.communicate(timeout=60)
    assert reader.returncode == 0, err
    report = json.loads(out)

    assert report["errors"] == []
    assert report["mixed"] == []
    assert report["reads"] > 20
    assert report["versions"] == sorted(report["versions"])  # never back to an older file
    assert report["versions"][-1] == 21
    assert leftovers(serving.parent, serving) == []


def test_failing_expectation_leaves_serving_byte_identical(tmp_path: Path):
    serving = tmp_path / "serve" / "serving.duckdb"
    good = build_db(tmp_path / "good.duckdb")
    publish(good, serving)
    before = sha256(serving)

    duplicate = ("c1", HASH_A, "US", "smb", "ads", "2024-01-01 00:00:00", None)
    bad = build_db(tmp_path / "bad.duckdb", [*GOOD_CUSTOMERS, duplicate])
    gate = run_gate(bad, tmp_path / "docs", "run-2", settings=SETTINGS)
    if gate.passed:
        publish(bad, serving)

    assert not gate.passed
    assert [(f.check, f.table, f.unexpected_count) for f in gate.failures] == [
        ("dim_customers.customer_id.unique", "marts.dim_customers", 2)
    ]
    assert "2 bad rows" in gate.message
    assert sha256(serving) == before
    assert query(serving, "select count(*) from marts.dim_customers") == [(3,)]


def test_only_the_named_marts_are_published(tmp_path: Path):
    build = make_build(tmp_path / "build.duckdb", version=2)
    with duckdb.connect(str(build)) as con:  # left by a removed model or a hand-run dbt build
        con.execute("create table marts.leftover as select 1 as x")
    serving = tmp_path / "serving.duckdb"
    result = publish(build, serving, marts=["a", "b"])
    assert result.tables == {"audit.runs": 2, "marts.a": 1, "marts.b": 2}
    tables = query(serving, "select table_schema, table_name from information_schema.tables order by all")
    assert tables == [("audit", "runs"), ("marts", "a"), ("marts", "b")]


def test_the_published_copy_records_its_run_as_published(tmp_path: Path):
    build = make_build(tmp_path / "build.duckdb", version=3)
    with duckdb.connect(str(build)) as con:
        con.execute("drop table audit.runs")
        runs.start_run(con, "r-now", None, "duckdb")
    serving = tmp_path / "serving.duckdb"
    publish(build, serving, published_run=("r-now", "published 2 marts"))
    # The published row exists only in the file that carries the new marts; the build still says running
    # until the publisher writes it there after the rename.
    assert query(serving, "select status, message, finished_at is not null from audit.runs") == [
        ("published", "published 2 marts", True)
    ]
    assert query(build, "select status, message from audit.runs") == [("running", None)]


def test_publish_audit_replaces_the_audit_and_keeps_the_marts_exactly(tmp_path: Path):
    build = make_build(tmp_path / "build.duckdb", version=4)
    serving = tmp_path / "serve" / "serving.duckdb"
    publish(build, serving)
    marts_before = {t: query(serving, f"select * from marts.{t} order by all") for t in ("a", "a_view", "b")}

    make_build(build, version=7)  # a new build that did not pass: only its audit may reach BI
    with duckdb.connect(str(build)) as con:
        con.execute("insert into audit.runs values ('r-blocked', 'blocked')")
    result = publish_audit(build, serving, SETTINGS)

    assert {t: query(serving, f"select * from marts.{t} order by all") for t in marts_before} == marts_before
    assert query(serving, "select run_id, status from audit.runs order by all") == [
        ("r-blocked", "blocked"),
        ("r0", "blocked"),
        ("r7", "published"),
    ]
    assert result.tables == {"marts.a": 1, "marts.a_view": 1, "marts.b": 4, "audit.runs": 3}
    assert leftovers(serving.parent, serving) == []


def test_publish_audit_before_any_publish_creates_a_serving_file_bi_can_open(tmp_path: Path):
    build = make_build(tmp_path / "build.duckdb", version=1)
    serving = tmp_path / "serve" / "serving.duckdb"
    publish_audit(build, serving, SETTINGS)
    probe = (
        "import duckdb, json, sys; c = duckdb.connect(sys.argv[1], read_only=True); print(json.dumps(["
        "c.execute('select run_id, status from audit.runs order by 1').fetchall(),"
        "c.execute(\"select schema_name from information_schema.schemata where schema_name = 'marts'\")"
        ".fetchall(), c.execute(\"select count(*) from duckdb_tables() where schema_name = 'marts'\")"
        ".fetchall()]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe, str(serving)], capture_output=True, text=True, check=True
    )
    assert json.loads(out.stdout) == [[["r0", "blocked"], ["r1", "published"]], [["marts"]], [[0]]]


def test_leftovers_of_a_killed_publish_are_found(tmp_path: Path):
    serving = tmp_path / "serving.duckdb"
    serving.write_bytes(b"")
    temp = tmp_path / ".serving.duckdb.123-abcd1234.publishing"
    found = [temp, tmp_path / ".serving.duckdb.123-abcd1234.publishing.wal", tmp_path / "serving.duckdb.wal"]
    for path in found:
        path.write_bytes(b"x")
    (tmp_path / "other.duckdb").write_bytes(b"")  # not ours
    assert sorted(publish_module.leftovers(serving)) == sorted(found)

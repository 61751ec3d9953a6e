"""Atomic publish: copies, replaces, never leaves a half-written or mixed serving file."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import time
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from clm import audit_docs, runs
from clm import publish as publish_module
from clm.config import load_settings
from clm.gate import run_gate
from clm.publish import publish_audit
from tests.gate.builders import GOOD_CUSTOMERS, build_db

SETTINGS = load_settings({})  # no CLM_* limits
MARTS = ("a", "a_view", "b")  # the marts make_build creates; every publish names its marts explicitly


def publish(
    build: Path,
    serving: Path,
    marts: Sequence[str] = MARTS,
    published_run: tuple[str, str] | None = None,
) -> publish_module.PublishResult:
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


def test_a_duckdb_1x_client_reads_the_served_file(tmp_path: Path):
    # BI drivers ship duckdb 1.x, which refuses duckdb 2.0's own storage format ("version number 69, we can
    # only read 64-68"); the served file is written in v1.4.0's. The 1.5.6 CLI (a pinned dependency,
    # .venv/bin/duckdb) reads it, and it reads the rows published above.
    build = make_build(tmp_path / "build" / "clm.duckdb", version=3)
    serving = tmp_path / "serve" / "serving.duckdb"
    publish(build, serving)
    cli = Path(sys.executable).with_name("duckdb")
    shown = subprocess.run(
        [
            str(cli),
            "-readonly",
            "-csv",
            str(serving),
            "-c",
            "select version(), (select sum(n) from marts.b), (select amount from marts.a), "
            "(select status from audit.runs where run_id = 'r3')",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert shown.returncode == 0, shown.stderr
    # marts.b holds n = 0, 1, 2 (version 3): sum 3; marts.a's amount 12.34
    assert shown.stdout.splitlines()[1] == "v1.5.6,3,12.34,published"


def describe_build(build: Path) -> None:
    """Comments as dbt's persist_docs writes them on the build's marts (COMMENT ON, from the model YAML)."""
    with duckdb.connect(str(build)) as con:
        con.execute("comment on table marts.a is 'One row per version; it''s the test mart.'")
        con.execute("comment on column marts.a.amount is 'Amount in the reporting currency.'")
        con.execute("comment on view marts.a_view is 'Twice the amount.'")


COMMENTS_SQL = (
    "select 'table', schema_name, table_name, null, comment from duckdb_tables() "
    "union all select 'view', schema_name, view_name, null, comment from duckdb_views() where not internal "
    "union all select 'column', schema_name, table_name, column_name, comment from duckdb_columns() "
    "where schema_name in ('marts', 'audit') order by all"
)


def cli_comments(serving: Path) -> list[list[str]]:
    """The served file's comments as DuckDB's 1.5.6 CLI reads them, in another process, read-only."""
    cli = Path(sys.executable).with_name("duckdb")
    shown = subprocess.run(
        [str(cli), "-readonly", "-json", str(serving), "-c", COMMENTS_SQL],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert shown.returncode == 0, shown.stderr
    return [list(row.values()) for row in json.loads(shown.stdout)]


def test_the_served_file_keeps_the_build_comments_and_describes_the_audit(tmp_path: Path):
    build = make_build(tmp_path / "build" / "clm.duckdb", version=2)
    describe_build(build)
    serving = tmp_path / "serve" / "serving.duckdb"

    publish(build, serving)

    runs_doc = audit_docs.AUDIT_TABLES["runs"]
    expected = [
        ["column", "audit", "runs", "run_id", runs_doc.columns["run_id"]],
        ["column", "audit", "runs", "status", runs_doc.columns["status"]],
        ["column", "marts", "a", "amount", "Amount in the reporting currency."],
        ["column", "marts", "a", "month", None],  # the build had no comment on it: none is made up
        ["column", "marts", "a", "ok", None],
        ["column", "marts", "a", "seen_at", None],
        ["column", "marts", "a", "version", None],
        ["column", "marts", "a_view", "double_amount", None],
        ["column", "marts", "a_view", "version", None],
        ["column", "marts", "b", "n", None],
        ["column", "marts", "b", "version", None],
        ["table", "audit", "runs", None, runs_doc.description],
        ["table", "marts", "a", None, "One row per version; it's the test mart."],
        # the view is published as a table, with the view's comment
        ["table", "marts", "a_view", None, "Twice the amount."],
        ["table", "marts", "b", None, None],
    ]
    assert cli_comments(serving) == expected
    assert [list(row) for row in query(serving, COMMENTS_SQL)] == expected  # and duckdb 2.0, read-only

    # A blocked run's publish_audit copies the marts from the served file: their comments stay.
    make_build(build, version=5)
    publish_audit(build, serving, SETTINGS)
    assert cli_comments(serving) == expected


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
    result = publish(build, serving, marts=["a", "b"])

    assert result.tables == {"audit.runs": 2, "marts.a": 1, "marts.b": 5}
    assert query(serving, "select version, count(*) from marts.b group by version") == [(5, 5)]
    tables = query(serving, "select table_name from information_schema.tables order by all")
    assert tables == [("a",), ("b",), ("runs",)]
    assert leftovers(serving.parent, serving) == []


def fail_after_first_table(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """Make _copy_tables write one table for real, then fail; returns the (table, rows) written."""
    copy = publish_module._copy_tables
    written: list[tuple[str, int]] = []

    def copy_then_fail(
        con: duckdb.DuckDBPyConnection, alias: str, schema: str, names: Sequence[str]
    ) -> dict[str, int]:
        copied: dict[str, int] = {}
        for name in names:
            if written:
                raise OSError("disk full")
            one = copy(con, alias, schema, [name])
            written.extend(one.items())
            copied |= one
        return copied

    monkeypatch.setattr(publish_module, "_copy_tables", copy_then_fail)
    return written


def test_failure_mid_copy_leaves_serving_byte_identical(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    build = make_build(tmp_path / "build.duckdb", version=1)
    serving = tmp_path / "serve" / "serving.duckdb"
    publish(build, serving)
    before = sha256(serving)
    make_build(build, version=2)

    written = fail_after_first_table(monkeypatch)
    with pytest.raises(OSError, match="disk full"):
        publish(build, serving, published_run=("r2", "published 3 marts"))

    assert written == [("marts.a", 1)]  # the failure came after one table was written to the temp file
    assert sha256(serving) == before
    assert leftovers(serving.parent, serving) == []
    assert query(serving, "select version from marts.a") == [(1,)]


def test_failed_first_publish_creates_no_serving_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    def fail(*_args: object) -> dict[str, int]:
        raise RuntimeError("boom")

    monkeypatch.setattr(publish_module, "_copy_tables", fail)
    serving = tmp_path / "serve" / "serving.duckdb"
    with pytest.raises(RuntimeError, match="boom"):
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
while True:
    # stop is touched after the last publish returned: the read that starts after seeing it must see that
    # last version, however slow this process is
    stopping = stop.exists()
    try:
        with duckdb.connect(str(serving), read_only=True) as con:
            a = con.execute("select version from marts.a").fetchone()[0]
            b_version, b_rows = con.execute("select min(version), count(*) from marts.b").fetchone()
    except Exception as exc:  # any error is a failure of atomic publish
        errors.append(repr(exc))
        if stopping:
            break
        continue
    reads += 1
    if not (a == b_version == b_rows):
        mixed.append((a, b_version, b_rows))
    if not versions or versions[-1] != a:
        versions.append(a)
    ready.touch()
    if stopping:
        break
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
    publish(good, serving, marts=["dim_customers"])
    before = sha256(serving)

    # Two malformed email hashes (a duplicate customer_id was the bad input here until dbt's
    # unique_dim_customers_customer_id took the grain over from the gate: expectations/proven_by_dbt.py).
    bad_hashes = [
        ("c4", "ABC", "US", "smb", "ads", "2024-01-01 00:00:00", None),  # not 64 hex digits
        ("c5", "A" * 64, "US", "smb", "ads", "2024-01-01 00:00:00", None),  # upper-case hex
    ]
    bad = build_db(tmp_path / "bad.duckdb", [*GOOD_CUSTOMERS, *bad_hashes])
    gate = run_gate(bad, tmp_path / "docs", "run-2", settings=SETTINGS)
    if gate.passed:
        publish(bad, serving, marts=["dim_customers"])

    assert not gate.passed
    assert [(f.check, f.table, f.unexpected_count) for f in gate.failures] == [
        ("dim_customers.email_hash.sha256_hex", "marts.dim_customers", 2)
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
        con.execute("drop table audit.runs")  # the real audit tables (clm.runs)
        runs.start_run(con, "r2", None, "duckdb")
        runs.finish_run(con, "r2", runs.BLOCKED, "quality gate blocked publishing")
        runs.start_run(con, "r3", None, "duckdb")
    build_runs = query(build, "select * from audit.runs order by run_id")
    serving = tmp_path / "serving.duckdb"

    result = publish(build, serving, marts=["a", "b"], published_run=("r3", "published 2 marts"))

    # The published row exists only in the file that carries the new marts; the build still says running
    # until the publisher writes it there after the rename.
    assert query(
        serving, "select run_id, status, message, finished_at is not null from audit.runs order by 1"
    ) == [
        ("r2", "blocked", "quality gate blocked publishing", True),
        ("r3", "published", "published 2 marts", True),
    ]
    assert query(build, "select * from audit.runs order by run_id") == build_runs
    assert [row[3] for row in build_runs] == ["blocked", "running"]
    assert result.tables["audit.runs"] == 2


def test_publish_audit_replaces_the_audit_and_keeps_the_marts_exactly(tmp_path: Path):
    build = make_build(tmp_path / "build.duckdb", version=4)
    serving = tmp_path / "serve" / "serving.duckdb"
    publish(build, serving)
    marts_before = {t: query(serving, f"select * from marts.{t} order by all") for t in ("a", "a_view", "b")}

    types_before = {t: columns(serving, "marts", t) for t in marts_before}

    make_build(build, version=7)  # a new build that did not pass: only its audit may reach BI
    with duckdb.connect(str(build)) as con:
        con.execute("insert into audit.runs values ('r-blocked', 'blocked')")
        con.execute("create table marts.leftover as select 1 as x")
        con.execute("create table audit.run_warnings as select 'r-blocked' as run_id, 'w' as message")
    build_before = sha256(build)
    result = publish_audit(build, serving, SETTINGS)

    assert {t: query(serving, f"select * from marts.{t} order by all") for t in marts_before} == marts_before
    assert {t: columns(serving, "marts", t) for t in marts_before} == types_before
    assert query(
        serving, "select table_name from information_schema.tables where table_schema = 'marts' order by 1"
    ) == [("a",), ("a_view",), ("b",)]  # nothing from the new build's marts
    assert query(serving, "select run_id, status from audit.runs order by all") == [
        ("r-blocked", "blocked"),
        ("r0", "blocked"),
        ("r7", "published"),
    ]
    assert query(serving, "select * from audit.run_warnings") == [("r-blocked", "w")]
    assert result.tables == {
        "marts.a": 1,
        "marts.a_view": 1,
        "marts.b": 4,
        "audit.runs": 3,
        "audit.run_warnings": 1,
    }
    assert sha256(build) == build_before
    assert leftovers(serving.parent, serving) == []


def test_failed_publish_audit_leaves_serving_byte_identical(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    build = make_build(tmp_path / "build.duckdb", version=1)
    serving = tmp_path / "serve" / "serving.duckdb"
    publish(build, serving)
    before = sha256(serving)
    with duckdb.connect(str(build)) as con:
        con.execute("insert into audit.runs values ('r-blocked', 'blocked')")

    written = fail_after_first_table(monkeypatch)
    with pytest.raises(OSError, match="disk full"):
        publish_audit(build, serving, SETTINGS)

    assert written == [("marts.a", 1)]  # one of the serving file's marts was copied, then it failed
    assert sha256(serving) == before
    assert leftovers(serving.parent, serving) == []


def test_unknown_mart_fails_and_leaves_serving_byte_identical(tmp_path: Path):
    build = make_build(tmp_path / "build.duckdb", version=1)
    serving = tmp_path / "serve" / "serving.duckdb"
    publish(build, serving)
    before = sha256(serving)

    with pytest.raises(duckdb.CatalogException, match="not_built"):
        publish(make_build(build, version=2), serving, marts=["a", "not_built"])

    assert sha256(serving) == before
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
    # audit rows readable from another process; a marts schema exists but holds none of the build's marts
    assert json.loads(out.stdout) == [[["r0", "blocked"], ["r1", "published"]], [["marts"]], [[0]]]
    assert leftovers(serving.parent, serving) == []


def test_leftovers_of_a_killed_publish_are_found(tmp_path: Path):
    serving = tmp_path / "serving.duckdb"
    serving.write_bytes(b"")
    assert publish_module.leftovers(serving) == []
    temp = tmp_path / ".serving.duckdb.123-abcd.publishing"
    found = [temp, tmp_path / ".serving.duckdb.123-abcd.publishing.wal", tmp_path / "serving.duckdb.wal"]
    for path in found:
        path.write_bytes(b"x")
    # not ours: another serving file's temp file and WAL, a plain file
    for name in (".other.duckdb.123-abcd.publishing", "other.duckdb.wal", "other.duckdb"):
        (tmp_path / name).write_bytes(b"")
    assert sorted(publish_module.leftovers(serving)) == sorted(found)


def test_publishing_a_run_the_audit_does_not_know_fails_and_keeps_serving(tmp_path: Path):
    """The serving file must say which run it holds: a run id without a row is refused, nothing replaced."""
    build = make_build(tmp_path / "build.duckdb", version=1)
    serving = tmp_path / "serve" / "serving.duckdb"
    publish(build, serving)
    before = sha256(serving)
    with duckdb.connect(str(build)) as con:
        con.execute("drop table audit.runs")  # the real audit tables (clm.runs), without the run published
        runs.start_run(con, "r2", None, "duckdb")
    with pytest.raises(RuntimeError, match="no row in the build's audit.runs"):
        publish(build, serving, published_run=("not-a-run", "published 3 marts"))
    assert sha256(serving) == before
    assert leftovers(serving.parent, serving) == []


def test_publish_audit_without_a_build_says_so(tmp_path: Path):
    with pytest.raises(FileNotFoundError, match="build database"):
        publish_audit(tmp_path / "missing.duckdb", tmp_path / "serving.duckdb", SETTINGS)
    assert not (tmp_path / "serving.duckdb").exists()

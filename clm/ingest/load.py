"""Load landed files into ``raw``: one transaction per file (raw rows, child rows, manifest, quarantine)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb

from clm.ingest import quarantine as q
from clm.ingest.discover import LandedFile, discover
from clm.ingest.manifest import ManifestIndex, ensure_manifest, insert_manifest_row
from clm.ingest.readers import (
    PHYS,
    REC,
    SRC,
    TEMP_TABLES,
    FileProblem,
    FileScan,
    Staged,
    count_records,
    ident,
    register_lines,
    scan_file,
    stage_csv,
    stage_jsonl,
    stage_parquet,
)
from clm.ingest.results import (
    DUPLICATE,
    EMPTY,
    FAILED,
    LOADED,
    QUARANTINED_FILE,
    SKIPPED,
    FileResult,
    IngestResult,
)
from clm.ingest.schemas import AUDIT_COLUMNS, DEFAULT_ABSURD_AMOUNT, ENTITIES, STRING, Entity, entity
from clm.ingest.validate import BAD, Rules, child_table, load_currencies, stage_bad_rows

_AUDIT_TYPES = dict(zip(AUDIT_COLUMNS, ("varchar", "varchar", "date", "bigint", "timestamp"), strict=True))


@dataclass
class _Context:
    con: duckdb.DuckDBPyConnection
    quarantine_dir: Path
    run_id: str
    currencies: dict[str, int]
    absurd_amount: float
    index: ManifestIndex


def ingest(
    con: duckdb.DuckDBPyConnection,
    raw_dir: Path,
    quarantine_dir: Path,
    run_id: str,
    as_of: date | None = None,
    progress: Callable[[str], None] | None = None,
    *,
    absurd_amount: float = DEFAULT_ABSURD_AMOUNT,
    currencies: dict[str, int] | None = None,
) -> IngestResult:
    """Load every new landed file (load_date <= as_of) into raw.*; see the package docstring."""
    ensure_manifest(con)
    q.ensure_quarantine(con)
    con.execute("create schema if not exists raw")
    # Every raw table exists from the first run on, even for an entity that has never landed, so staging
    # builds (empty) instead of failing on a missing relation (CONTRACT 5: an entity missing from a drop).
    for ent in ENTITIES:
        ensure_raw_tables(con, ent)
    ctx = _Context(
        con,
        Path(quarantine_dir),
        run_id,
        currencies or load_currencies(),
        absurd_amount,
        ManifestIndex.load(con),
    )
    result = IngestResult(run_id)
    with _insertion_order(con):
        for landed in discover(Path(raw_dir), as_of):
            file_result = _ingest_file(ctx, landed)
            result.files.append(file_result)
            if progress is not None:
                progress(file_result.progress_line())
    return result


@contextlib.contextmanager
def _insertion_order(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    # Line numbers rely on reading files in order; a caller may have turned this off for speed.
    old = con.execute("select current_setting('preserve_insertion_order')").fetchone()[0]
    con.execute("set preserve_insertion_order = true")
    try:
        yield
    finally:
        con.execute(f"set preserve_insertion_order = {str(old).lower()}")


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _ingest_file(ctx: _Context, landed: LandedFile) -> FileResult:
    text_format = landed.format in ("csv", "jsonl") and landed.problem is None
    scan = scan_file(landed.path, with_lines=text_format)
    base = FileResult(
        landed.source, landed.entity, landed.load_date, landed.rel_path, scan.sha256, status=LOADED
    )
    seen = ctx.index.by_path.get(landed.rel_path, set())
    if scan.sha256 in seen:
        return replace(base, status=SKIPPED)
    if landed.problem:
        return _quarantine_file(ctx, landed, base, landed.problem, 0)
    try:
        records = count_records(ctx.con, landed.format, landed.path, scan)
    except FileProblem as problem:
        return _quarantine_file(ctx, landed, base, str(problem), 0)
    if seen:
        reason = "file changed after it was loaded (a landed drop is immutable): not loaded again"
        return _quarantine_file(ctx, landed, base, reason, records)
    if records == 0:
        return _record(ctx, landed, replace(base, status=EMPTY, message="empty file: no records"))
    original = ctx.index.original_by_sha.get(scan.sha256)
    if original is not None:
        reason = f"duplicate of {original} (same sha256): not loaded"
        return _quarantine_file(ctx, landed, base, reason, records, status=DUPLICATE)
    return _load_file(ctx, landed, base, scan)


def _record(ctx: _Context, landed: LandedFile, result: FileResult) -> FileResult:
    """Write only a manifest row (an empty file), so that a rerun skips it."""
    ctx.con.begin()
    try:
        insert_manifest_row(ctx.con, ctx.run_id, landed.format, result, _now())
        ctx.con.commit()
    except Exception:
        ctx.con.rollback()
        raise
    ctx.index.note(result.file_path, result.sha256, result.status)
    return result


def _quarantine_file(
    ctx: _Context,
    landed: LandedFile,
    base: FileResult,
    reason: str,
    records: int,
    status: str = QUARANTINED_FILE,
) -> FileResult:
    result = replace(base, status=status, rows_read=records, rows_quarantined=records, message=reason)
    now = _now()
    target = q.QuarantineTarget(ctx.run_id, landed.source, landed.entity, landed.rel_path, now)
    text_path = q.text_file(ctx.quarantine_dir, ctx.run_id, landed.source, landed.entity)
    scratch = q.whole_file_text(_scratch(text_path), landed.rel_path, reason)
    ctx.con.begin()
    try:
        q.insert_whole_file(ctx.con, target, reason)
        insert_manifest_row(ctx.con, ctx.run_id, landed.format, result, now)
        ctx.con.commit()
    except Exception:
        ctx.con.rollback()
        scratch.unlink(missing_ok=True)
        raise
    q.append_text(scratch, text_path)
    ctx.index.note(result.file_path, result.sha256, result.status)
    return result


def _scratch(text_path: Path) -> Path:
    text_path.parent.mkdir(parents=True, exist_ok=True)
    return text_path.with_name(f".{text_path.stem}.part.jsonl")


def _stage(ctx: _Context, landed: LandedFile, ent: Entity, scan: FileScan) -> Staged:
    if landed.format == "csv":
        register_lines(ctx.con, scan)
        return stage_csv(ctx.con, ent, landed.path, scan)
    if landed.format == "jsonl":
        register_lines(ctx.con, scan)
        return stage_jsonl(ctx.con, ent, landed.path)
    return stage_parquet(ctx.con, ent, landed.path)


def _load_file(ctx: _Context, landed: LandedFile, base: FileResult, scan: FileScan) -> FileResult:
    con, ent = ctx.con, entity(landed.source, landed.entity)
    now = _now()
    target = q.QuarantineTarget(ctx.run_id, landed.source, landed.entity, landed.rel_path, now)
    text_path = q.text_file(ctx.quarantine_dir, ctx.run_id, landed.source, landed.entity)
    scratch = _scratch(text_path)
    con.begin()
    try:
        staged = _stage(ctx, landed, ent, scan)
        if staged.missing:
            con.rollback()
            reason = "missing required columns: " + ", ".join(staged.missing)
            return _quarantine_file(ctx, landed, base, reason, staged.rows_read)
        result = _load_staged(ctx, landed, ent, staged, base, target, now)
        insert_manifest_row(con, ctx.run_id, landed.format, result, now)
        q.export_rejected_text(con, landed.rel_path, scratch)
        con.commit()
    except FileProblem as problem:
        con.rollback()
        records = count_records(con, landed.format, landed.path, scan) if landed.format != "parquet" else 0
        return _quarantine_file(ctx, landed, base, str(problem), records)
    except Exception as exc:  # one bad file must not stop the drop: roll it back, report, go on
        with contextlib.suppress(duckdb.Error):
            con.rollback()
        scratch.unlink(missing_ok=True)
        return replace(base, status=FAILED, message=f"{type(exc).__name__}: {str(exc).splitlines()[0]}")
    finally:
        _cleanup(con, ent)
    q.append_text(scratch, text_path)
    ctx.index.note(result.file_path, result.sha256, result.status)
    return result


def _cleanup(con: duckdb.DuckDBPyConnection, ent: Entity) -> None:
    tables = [*TEMP_TABLES, BAD, *(child_table(c) for c in ent.children)]
    with contextlib.suppress(duckdb.Error):
        for table in tables:
            con.execute(f"drop table if exists {table}")
        con.unregister(PHYS)


def _load_staged(
    ctx: _Context,
    landed: LandedFile,
    ent: Entity,
    staged: Staged,
    base: FileResult,
    target: q.QuarantineTarget,
    now: datetime,
) -> FileResult:
    con = ctx.con
    stage_bad_rows(con, ent, Rules(landed.load_date, ctx.currencies, ctx.absurd_amount))
    con.execute(
        f"""insert into {q.REJECTED_ROWS} (line, raw, reason)
            select s._row_number, r.raw, b.reason from {BAD} b
            join {SRC} s on s._ord = b._ord
            join (select _ord, {staged.raw_sql} as raw from {REC}) r on r._ord = b._ord"""
    )
    ensure_raw_tables(con, ent)
    audit = [ctx.run_id, landed.rel_path, landed.load_date, now]
    loaded = _insert_rows(con, ent, audit)
    quarantined = q.insert_rejected_rows(con, target)
    notes = [f"{quarantined:,} rows quarantined"] if quarantined else []
    notes += staged.notes
    duplicates = _duplicate_keys(con, ent, landed)
    if duplicates:
        notes.append(f"warning: {duplicates:,} rows share a primary key within the drop (newest wins)")
    return replace(
        base,
        rows_read=staged.rows_read,
        rows_loaded=loaded,
        rows_quarantined=quarantined,
        message="; ".join(notes),
    )


def _value_sql(column: str, kind: str, table: str) -> str:
    # Typed values are kept as landed, but blank text becomes NULL so staging casts cannot fail on it.
    col = f"{table}.{ident(column)}"
    return col if kind == STRING else f"case when trim({col}) = '' then null else {col} end"


def _insert_rows(con: duckdb.DuckDBPyConnection, ent: Entity, audit: list[object]) -> int:
    run_id, source_file, load_date, loaded_at = audit
    good = f"not exists (select 1 from {BAD} b where b._ord = s._ord)"
    cols = [ident(f.column) for f in ent.fields] + list(AUDIT_COLUMNS)
    values = [_value_sql(f.column, f.kind, "s") for f in ent.fields]
    before = con.execute(f"select count(*) from raw.{ent.table}").fetchone()[0]
    con.execute(
        f"""insert into raw.{ent.table} ({", ".join(cols)})
            select {", ".join(values)}, ?, ?, ?, s._row_number, ? from {SRC} s where {good}""",
        [run_id, source_file, load_date, loaded_at],
    )
    loaded = con.execute(f"select count(*) from raw.{ent.table}").fetchone()[0] - before
    parent_key = ident(ent.primary_key[0])
    for child in ent.children:
        child_cols = [ident(child.parent_key_column), ident(child.index_column)]
        child_cols += [ident(f.column) for f in child.fields] + list(AUDIT_COLUMNS)
        child_values = [_value_sql(f.column, f.kind, "c") for f in child.fields]
        con.execute(
            f"""insert into raw.{child.table} ({", ".join(child_cols)})
                select s.{parent_key}, c.idx, {", ".join(child_values)}, ?, ?, ?, s._row_number, ?
                from {child_table(child)} c join {SRC} s on s._ord = c._ord where {good}""",
            [run_id, source_file, load_date, loaded_at],
        )
    return loaded


def _duplicate_keys(con: duckdb.DuckDBPyConnection, ent: Entity, landed: LandedFile) -> int:
    """Rows of this file whose primary key occurs more than once in the drop (this file or earlier ones)."""
    keys = ", ".join(ident(k) for k in ent.primary_key)
    return con.execute(
        f"""with cur as (select {keys} from raw.{ent.table} where _source_file = ?),
                 drop_rows as (select {keys} from raw.{ent.table} where _load_date = ?),
                 counts as (select {keys}, count(*) as n from drop_rows group by all)
            select count(*) from cur join counts using ({keys}) where n > 1""",
        [landed.rel_path, landed.load_date],
    ).fetchone()[0]


def ensure_raw_tables(con: duckdb.DuckDBPyConnection, ent: Entity) -> None:
    """Create raw tables if absent; add any column a newer schema knows that an older table lacks."""
    columns = {f.column: "varchar" for f in ent.fields} | _AUDIT_TYPES
    _ensure_table(con, ent.table, columns)
    for child in ent.children:
        child_columns = {child.parent_key_column: "varchar", child.index_column: "bigint"}
        child_columns |= {f.column: "varchar" for f in child.fields} | _AUDIT_TYPES
        _ensure_table(con, child.table, child_columns)


def _ensure_table(con: duckdb.DuckDBPyConnection, table: str, columns: dict[str, str]) -> None:
    ddl = ", ".join(f"{ident(c)} {t}" for c, t in columns.items())
    con.execute(f"create table if not exists raw.{table} ({ddl})")
    existing = {
        name
        for (name,) in con.execute(
            "select column_name from information_schema.columns "
            "where table_schema = 'raw' and table_name = ?",
            [table],
        ).fetchall()
    }
    for column, kind in columns.items():
        if column not in existing:
            con.execute(f"alter table raw.{table} add column {ident(column)} {kind}")

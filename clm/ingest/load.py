"""Load landed files into ``raw``: one transaction per file (raw rows, child rows, manifest, quarantine)."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb

from clm.config import DEFAULT_MAX_RECORD_BYTES
from clm.ingest import quarantine as q
from clm.ingest.discover import LandedFile, discover
from clm.ingest.fx import duckdb_rate_months, fx_coverage
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
    FUTURE_DROP,
    LOADED,
    QUARANTINED_FILE,
    SKIPPED,
    SKIPPED_ENTRY,
    FileResult,
    IngestResult,
)
from clm.ingest.schemas import AUDIT_COLUMNS, DEFAULT_ABSURD_AMOUNT, ENTITIES, STRING, Entity, entity
from clm.ingest.validate import BAD, FxCoverage, Rules, child_table, load_currencies, stage_bad_rows

_AUDIT_TYPES = dict(zip(AUDIT_COLUMNS, ("varchar", "varchar", "date", "bigint", "timestamp"), strict=True))


@dataclass
class _Context:
    con: duckdb.DuckDBPyConnection
    quarantine_dir: Path
    run_id: str
    currencies: dict[str, int]
    absurd_amount: float
    fx: FxCoverage  # the rates dbt will convert with (clm.ingest.fx)
    index: ManifestIndex
    max_record_bytes: int
    today: date  # the current UTC date: a drop dated after it is not loaded yet
    scratch: Path  # decompressed and normalised copies of the file being read, removed after it


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
    max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES,
    today: date | None = None,
    fx: FxCoverage | None = None,
) -> IngestResult:
    """Load every new landed file (load_date <= as_of) into raw.*; see the package docstring.

    ``fx``: the FX rates amounts must have a rate in, as clm.ingest.fx.fx_coverage decides for the run (a
    `clm run` passes its CLM_DBT_VARS and target); by default dbt_project.yml's choice, a relation read
    through ``con``.

    A drop dated after ``today`` (default: the current UTC date) is recorded as not loaded and loaded by
    the first run on or after its date; entries the landing zone's boundary keeps out are reported.
    """
    # First: a missing FX relation stops the run before anything is written.
    fx = fx if fx is not None else fx_coverage({}, duckdb_rate_months(con))
    ensure_manifest(con)
    q.ensure_quarantine(con)
    con.execute("create schema if not exists raw")
    # Every raw table exists from the first run on, even for an entity that has never landed, so staging
    # builds (empty) instead of failing on a missing relation (docs/bad-input.md#faults: an entity missing
    # from a drop).
    for ent in ENTITIES:
        ensure_raw_tables(con, ent)
    scratch = Path(quarantine_dir) / ".ingest-scratch"
    # One run at a time per data directory: whatever is here was left by a run that was killed.
    shutil.rmtree(scratch, ignore_errors=True)
    ctx = _Context(
        con,
        Path(quarantine_dir),
        run_id,
        currencies or load_currencies(),
        absurd_amount,
        fx,
        ManifestIndex.load(con),
        max_record_bytes,
        today or datetime.now(UTC).date(),
        scratch,
    )
    result = IngestResult(run_id)
    try:
        # One thread scans the next file's bytes (checksum, line breaks) while DuckDB loads the current one.
        with _insertion_order(con), ThreadPoolExecutor(max_workers=1) as pool:
            landed_files = discover(Path(raw_dir))
            scans = _Prefetch(ctx, pool, [f for f in landed_files if _to_read(ctx, f, as_of)])
            for landed in landed_files:
                file_result = _consider(ctx, landed, as_of, scans)
                if file_result is None:
                    continue
                result.files.append(file_result)
                if progress is not None:
                    progress(file_result.progress_line())
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return result


def _to_read(ctx: _Context, landed: LandedFile, as_of: date | None) -> bool:
    """Whether _consider reads the file's bytes: not skipped, not from the future, not after as_of."""
    if landed.skip or (landed.load_date is not None and landed.load_date > ctx.today):
        return False
    return as_of is None or landed.load_date is None or landed.load_date <= as_of


def _consider(ctx: _Context, landed: LandedFile, as_of: date | None, scans: _Prefetch) -> FileResult | None:
    """What happens to one entry of the landing zone; None for a drop after as_of (left for later)."""
    if landed.skip:
        # Never opened: outside the boundary, dangling, not a regular file. Reported, not recorded.
        where = (landed.source, landed.entity, landed.load_date, landed.rel_path)
        return FileResult(*where, None, SKIPPED_ENTRY, message=landed.problem or "skipped")
    if landed.load_date is not None and landed.load_date > ctx.today:
        # Whatever else is wrong with it, a drop from the future is reported now, not once as-of reaches it.
        return _future_drop(ctx, landed)
    if as_of is not None and landed.load_date is not None and landed.load_date > as_of:
        return None
    scratch, scan = scans.take(landed)
    try:
        return _ingest_scanned(ctx, landed, scratch, scan)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


class _Prefetch:
    """The scans of the files to read, in their order, each started in ``pool`` when the file before it
    is taken: reading a file's bytes in Python overlaps with DuckDB loading the one before.

    A scan depends only on the file and on the manifest of earlier runs (a path is read once per run), so
    computing it early changes nothing but when. Each file gets its own scratch folder (a decompressed or
    normalised copy), removed once the file is done.
    """

    def __init__(self, ctx: _Context, pool: ThreadPoolExecutor, files: list[LandedFile]) -> None:
        self.ctx, self.pool = ctx, pool
        self.queue = list(reversed(files))  # next file last
        self.pending: dict[str, tuple[Path, Future[FileScan]]] = {}
        self._start_next()

    def _start_next(self) -> None:
        if not self.queue:
            return
        landed = self.queue.pop()
        self.ctx.scratch.mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(dir=self.ctx.scratch))
        with_lines = not self.ctx.index.by_path.get(landed.rel_path)
        future = self.pool.submit(_scan, self.ctx, landed, scratch, with_lines)
        self.pending[landed.rel_path] = (scratch, future)

    def take(self, landed: LandedFile) -> tuple[Path, FileScan]:
        """The file's scratch folder and scan (a scan's error raised here); starts the next file's scan."""
        scratch, future = self.pending.pop(landed.rel_path)
        self._start_next()
        return scratch, future.result()


def _future_drop(ctx: _Context, landed: LandedFile) -> FileResult:
    """A drop dated after today: quarantined whole and never read, without counting its rows (they are
    counted once, by the run that loads them when their date has come). Recorded once per content; the
    manifest row does not mark the file as processed, so a run on or after its date loads it."""
    scan = scan_file(landed.path, with_lines=False)
    reason = f"load date {landed.load_date} is after today's UTC date {ctx.today}: not loaded"
    base = FileResult(
        landed.source, landed.entity, landed.load_date, landed.rel_path, scan.sha256, FUTURE_DROP
    )
    if (landed.rel_path, scan.sha256) in ctx.index.future:
        return replace(base, message=reason)
    return _quarantine_file(ctx, landed, base, reason, 0, status=FUTURE_DROP)


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


def _scan(ctx: _Context, landed: LandedFile, scratch: Path, with_lines: bool) -> FileScan:
    text_format = landed.format in ("csv", "jsonl") and landed.problem is None
    return scan_file(
        landed.path,
        with_lines=text_format and with_lines,
        compressed=landed.compressed,
        max_record_bytes=ctx.max_record_bytes,
        scratch=scratch,
    )


def _ingest_scanned(ctx: _Context, landed: LandedFile, scratch: Path, scan: FileScan) -> FileResult:
    """One file, given its first scan: a path already recorded is most likely skipped, so its scan has
    the checksum only (the lines can wait)."""
    seen = ctx.index.by_path.get(landed.rel_path, set())
    base = FileResult(
        landed.source, landed.entity, landed.load_date, landed.rel_path, scan.sha256, status=LOADED
    )
    if scan.sha256 in seen:
        return replace(base, status=SKIPPED)
    if landed.problem:
        return _quarantine_file(ctx, landed, base, landed.problem, 0)
    if seen:
        scan = _scan(ctx, landed, scratch, with_lines=True)
    if scan.problem:
        return _quarantine_file(ctx, landed, base, scan.problem, 0)
    try:
        records = count_records(ctx.con, landed.format, landed.path, scan)
    except FileProblem as problem:
        return _quarantine_file(ctx, landed, base, str(problem), 0)
    if seen:
        reason = "file changed after it was loaded (a landed drop is immutable): not loaded again"
        return _quarantine_file(ctx, landed, base, reason, records)
    original = ctx.index.original_by_sha.get(scan.sha256)
    if original is not None:
        # docs/landing-zone.md#drops-and-incremental-loads: a re-sent file is a no-op; its records were
        # counted when the original loaded.
        message = f"duplicate of {original} (same sha256): not loaded, a no-op"
        return _record(ctx, landed, replace(base, status=DUPLICATE, message=message))
    if records == 0:
        return _record(ctx, landed, replace(base, status=EMPTY, message="empty file: no records"))
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
    ctx.index.note(result.file_path, result.sha256, result.status, result.message)
    return result


def _quarantine_file(
    ctx: _Context,
    landed: LandedFile,
    base: FileResult,
    reason: str,
    records: int,
    status: str = QUARANTINED_FILE,
) -> FileResult:
    earlier = ctx.index.quarantined_whole.get(base.sha256 or "")
    if status == QUARANTINED_FILE and earlier is not None and earlier[1] == reason:
        # docs/landing-zone.md#drops-and-incremental-loads: a re-sent file is a no-op, also when the file it
        # copies was refused as a whole.
        message = f"duplicate of {earlier[0]} (same sha256), quarantined whole for the same reason: a no-op"
        return _record(ctx, landed, replace(base, status=DUPLICATE, message=message))
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
    ctx.index.note(result.file_path, result.sha256, result.status, result.message)
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
        return stage_jsonl(ctx.con, ent, landed.path, scan)
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
        whole_file = _whole_file_reason(staged)
        if whole_file:
            con.rollback()
            return _quarantine_file(ctx, landed, base, whole_file, staged.physical)
        result = _load_staged(ctx, landed, ent, staged, base, target, now)
        if result.rows_loaded + result.rows_quarantined != staged.physical:
            con.rollback()
            reason = (
                f"the file holds {staged.physical:,} physical records but {result.rows_loaded:,} were "
                f"loaded and {result.rows_quarantined:,} quarantined: quarantined whole, nothing loaded"
            )
            return _quarantine_file(ctx, landed, base, reason, staged.physical)
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
    ctx.index.note(result.file_path, result.sha256, result.status, result.message)
    return result


def _whole_file_reason(staged: Staged) -> str | None:
    """Why nothing of a staged file may load: missing required columns, or records gone missing."""
    if staged.missing:
        return "missing required columns: " + ", ".join(staged.missing)
    return staged.mismatch()


def _cleanup(con: duckdb.DuckDBPyConnection, ent: Entity) -> None:
    tables = [*TEMP_TABLES, BAD, *(child_table(c) for c in ent.children)]
    with contextlib.suppress(duckdb.Error):
        # one call for all: each execute() has a fixed cost that adds up over many small files
        con.execute("; ".join(f"drop table if exists {table}" for table in tables))
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
    stage_bad_rows(con, ent, Rules(landed.load_date, ctx.currencies, ctx.absurd_amount, ctx.fx))
    has_bad = con.execute(f"select count(*) from {BAD}").fetchone()[0] > 0
    if has_bad:  # most files have none: no join to plan
        _reject_bad_rows(con, staged)
    # raw tables: created by ingest() before the first file (an information_schema query per file costs)
    audit = [ctx.run_id, landed.rel_path, landed.load_date, now]
    loaded = _insert_rows(con, ent, audit, has_bad)
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


def _reject_bad_rows(con: duckdb.DuckDBPyConnection, staged: Staged) -> None:
    """The records validation found bad join the rejected rows, with their line and text."""
    con.execute(
        f"""insert into {q.REJECTED_ROWS} (line, raw, reason)
            select s._row_number, r.raw, b.reason from {BAD} b
            join {SRC} s on s._ord = b._ord
            join (select _ord, {staged.raw_sql} as raw from {REC}) r on r._ord = b._ord"""
    )


def _value_sql(column: str, kind: str, table: str) -> str:
    # Typed values are kept as landed, but blank text becomes NULL so staging casts cannot fail on it.
    col = f"{table}.{ident(column)}"
    return col if kind == STRING else f"case when trim({col}) = '' then null else {col} end"


def _insert_rows(con: duckdb.DuckDBPyConnection, ent: Entity, audit: list[object], has_bad: bool) -> int:
    """Append the good records (and their array elements) to raw; returns how many records."""
    run_id, source_file, load_date, loaded_at = audit
    # Without bad records every staged one is good: no anti join to plan and run.
    good = f"not exists (select 1 from {BAD} b where b._ord = s._ord)" if has_bad else "true"
    cols = [ident(f.column) for f in ent.fields] + list(AUDIT_COLUMNS)
    values = [_value_sql(f.column, f.kind, "s") for f in ent.fields]
    # An INSERT returns the number of rows it wrote.
    (loaded,) = con.execute(
        f"""insert into raw.{ent.table} ({", ".join(cols)})
            select {", ".join(values)}, ?, ?, ?, s._row_number, ? from {SRC} s where {good}""",
        [run_id, source_file, load_date, loaded_at],
    ).fetchone()
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

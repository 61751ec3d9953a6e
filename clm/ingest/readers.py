"""Stage one landed file into temp tables with DuckDB's own readers: set-based SQL, no per-row Python.

Every reader leaves, for the file being loaded:

* ``_clm_rec``: one row per record read: ``_ord`` (unique, in file order), ``_row_number`` (physical line
  for CSV/JSONL, 1-based row for Parquet) and the record as read;
* ``_clm_src``: ``_ord``, ``_row_number``, one VARCHAR column per entity field (``Field.column``), one
  ``__arr_<path>`` JSON-text column per child array and ``__pre`` (a reason found while reading, e.g. a
  JSON-text column that is not JSON);
* ``_clm_rejected`` (line, reason, raw): records the reader could not parse at all.

Line numbers come from the file's bytes: numpy finds the line breaks (LF or CRLF, or CR alone in a file
without LF) in the same pass as the checksum (``_clm_phys``: line, start byte, blank), DuckDB's reject
tables give the byte position of each malformed record, and the accepted records, in file order, fill the
remaining non-blank lines. DuckDB parses a copy when the landed bytes need one (gzip, CR line endings,
records over ``max_record_bytes``, which the copy leaves empty and ``_clm_rejected`` reports by line), and
every reader also returns the physical record count so that ``load`` can check nothing went missing.
"""

from __future__ import annotations

import csv
import hashlib
import io
import mmap
import os
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from clm.config import DEFAULT_MAX_RECORD_BYTES
from clm.ingest.quarantine import REJECTED_ROWS
from clm.ingest.schemas import Entity

PHYS = "_clm_phys"
REC = "_clm_rec"
SRC = "_clm_src"
_LINES = "_clm_lines"
_REJ_ERRORS = "_clm_reject_errors"
_REJ_SCANS = "_clm_reject_scans"
_CHUNK = 64 << 20
_JSONL_DELIM = "\x1f"  # never raw inside valid JSON (control characters must be escaped)
TEMP_TABLES = (REC, SRC, _LINES, _REJ_ERRORS, _REJ_SCANS, REJECTED_ROWS)

# DuckDB reject error types -> our wording (DuckDB's own messages can quote the record: not reused).
_CSV_ERRORS = {
    "UNQUOTED VALUE": "unterminated or misplaced quote",
    "MISSING COLUMNS": "fewer fields than the header",
    "TOO MANY COLUMNS": "more fields than the header",
    "INVALID ENCODING": "invalid UTF-8 bytes",
    "LINE SIZE OVER MAXIMUM": "line longer than the reader's maximum line size",
}


class FileProblem(Exception):
    """The file cannot be read as its format at all: it is quarantined whole."""


@dataclass(frozen=True)
class FileScan:
    """What one pass over a landed file's bytes found: checksum, physical lines and over-size records.

    ``starts``/``blank`` describe the bytes the reader parses: the landed file itself, or ``text``, a copy
    (decompressed, CR line endings turned into LF, over-size records emptied) that keeps every line number.
    """

    sha256: str  # of the file as landed (compressed bytes for .gz)
    size: int  # bytes as landed
    starts: np.ndarray  # byte offset where each physical line starts (line n at index n-1)
    blank: np.ndarray  # True for an empty line (or a lone CR); an over-size record's line is emptied
    oversize: tuple[tuple[int, int], ...] = ()  # (line, bytes) of the records over max_record_bytes
    max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES
    text: Path | None = None  # the copy the reader parses instead of the landed file
    problem: str | None = None  # the bytes cannot be read at all (e.g. a broken gzip stream)

    def nonblank_lines(self, first_line: int = 1) -> int:
        return int(np.count_nonzero(~self.blank[first_line - 1 :]))

    def records(self, first_line: int = 1) -> int:
        """Physical records from first_line on: non-blank lines, over-size ones included."""
        return self.nonblank_lines(first_line) + sum(1 for line, _ in self.oversize if line >= first_line)

    def parsed(self, path: Path) -> Path:
        return self.text or path


@dataclass
class Staged:
    records: int  # rows in _clm_src
    rejected: int  # rows in _clm_rejected after reading
    raw_sql: str  # expression over _clm_rec giving a record's text for the quarantine file
    missing: list[str] = field(default_factory=list)  # required fields absent from the file
    notes: list[str] = field(default_factory=list)
    physical: int = 0  # records counted from the file's bytes (Parquet: its metadata), not by the parser
    unplaced: int = 0  # records the parser returned that no physical line is left for

    @property
    def rows_read(self) -> int:
        return self.records + self.rejected

    def mismatch(self) -> str | None:
        """Why the parser's records do not account for the physical ones
        (docs/bad-input.md#record-accounting), or None."""
        if self.physical == self.rows_read and not self.unplaced:
            return None
        return (
            f"the file holds {self.physical:,} physical records but the reader returned "
            f"{self.rows_read:,} ({self.records:,} read, {self.rejected:,} rejected): quarantined whole, "
            "nothing loaded"
        )


# --- one pass over the bytes: checksum, physical lines, record sizes ------------------------------------


@dataclass(frozen=True)
class _Lines:
    starts: np.ndarray
    lengths: np.ndarray  # bytes of each line without its terminator (a CRLF line's CR included)
    blank: np.ndarray
    cr_only: bool  # the file ends its lines with CR alone (classic Mac): no LF anywhere
    # CRs that end a CRLF line in a file whose other lines end with LF alone (files concatenated from two
    # exporters): DuckDB's reader refuses such a file, so the copy it parses drops these CRs.
    mixed_crs: np.ndarray


def _chunks(path: Path) -> Iterator[np.ndarray]:
    """The file's bytes in chunks of one reused buffer: bounded memory, and no mapping of the whole file
    (a mapped file counts in the process's resident memory once read)."""
    with path.open("rb", buffering=0) as fh:
        # no larger than the file: a zeroed 64 MB buffer per small file costs more than reading it
        buf = bytearray(max(1, min(_CHUNK, os.fstat(fh.fileno()).st_size)))
        while n := fh.readinto(buf):
            yield np.frombuffer(buf, dtype=np.uint8, count=n)


def _hash_file(path: Path) -> str:
    sha = hashlib.sha256()
    for chunk in _chunks(path):
        sha.update(chunk)
    return sha.hexdigest()


def _stream_lines(path: Path, sha: hashlib._Hash | None = None) -> _Lines:
    """Physical lines of a file, whatever their endings (LF or CRLF, or CR alone when the file has no LF
    at all), read in one pass of chunks that also feeds ``sha``."""
    breaks: list[np.ndarray] = []
    after_cr: list[np.ndarray] = []  # per line break: the byte before it is a CR
    size, last = 0, -1
    for data in _chunks(path):
        if sha is not None:
            sha.update(data)
        lf = np.flatnonzero(data == 10)
        before = data[np.maximum(lf - 1, 0)].astype(np.int16)
        before[lf == 0] = last  # the byte before a chunk's first byte ends the previous chunk
        breaks.append(lf.astype(np.int64) + size)
        after_cr.append(before == 13)
        size, last = size + len(data), int(data[-1])
    lf_breaks = np.concatenate(breaks) if breaks else np.zeros(0, dtype=np.int64)
    crlf = np.concatenate(after_cr) if after_cr else np.zeros(0, dtype=bool)
    cr_only = False
    if size and not len(lf_breaks):
        found = [np.flatnonzero(data == 13) + offset for offset, data in _offsets(path)]
        crs = np.concatenate(found).astype(np.int64) if found else lf_breaks
        cr_only = len(crs) > 0
        lf_breaks, crlf = (crs, np.zeros(len(crs), dtype=bool)) if cr_only else (lf_breaks, crlf)
    return _lines_from_breaks(lf_breaks, crlf, size, last, cr_only)


def _offsets(path: Path) -> Iterator[tuple[int, np.ndarray]]:
    offset = 0
    for data in _chunks(path):
        yield offset, data
        offset += len(data)


def _lines_from_breaks(
    breaks: np.ndarray, after_cr: np.ndarray, size: int, last: int, cr_only: bool
) -> _Lines:
    starts = np.concatenate(([0], breaks + 1)).astype(np.int64)
    if starts[-1] == size:  # a final line break does not open another line
        starts = starts[:-1]
    ends = np.append(breaks, size)[: len(starts)]
    lengths = ends - starts
    # A one-byte line is blank when that byte is a CR: the byte before its break, or the file's last byte.
    lone_cr = np.append(after_cr, last == 13)[: len(starts)]
    blank = (lengths == 0) | ((lengths == 1) & lone_cr & (not cr_only))
    crlf = breaks[after_cr] - 1
    mixed_crs = crlf if 0 < len(crlf) < len(breaks) else crlf[:0]
    return _Lines(starts, lengths.astype(np.int64), blank, cr_only, mixed_crs.astype(np.int64))


def _empty_scan(sha: str, size: int, limit: int, problem: str | None = None) -> FileScan:
    empty = np.zeros(0, dtype=np.int64)
    return FileScan(sha, size, empty, empty.astype(bool), (), limit, None, problem)


class _Gunzip:
    """Inflates a gzip stream fed in chunks (several members allowed) into a file, in bounded memory."""

    def __init__(self, dst: io.BufferedWriter) -> None:
        self.dst = dst
        self.inflater = zlib.decompressobj(wbits=31)
        self.members = 0
        self.open_member = False  # bytes fed to a member that has not reached its end

    def feed(self, data: bytes) -> None:
        while True:
            out = self.inflater.decompress(data, _CHUNK)
            self.dst.write(out)
            self.open_member = self.open_member or bool(data)
            if self.inflater.eof:
                self.members += 1
                data, self.open_member = self.inflater.unused_data, False
                self.inflater = zlib.decompressobj(wbits=31)
                if not data:
                    return
            elif self.inflater.unconsumed_tail:
                data = self.inflater.unconsumed_tail
            elif len(out) == _CHUNK:
                data = b""  # output may still be pending inside the inflater
            else:
                return

    def problem(self) -> str | None:
        if self.open_member or not self.members:
            return "not a complete gzip file (truncated or not gzip at all)"
        return None


def _gunzip(path: Path, out: Path) -> tuple[str, str | None]:
    """Decompress path into out in one pass: (sha256 of the bytes as landed, problem or None)."""
    sha = hashlib.sha256()
    problem = None
    with path.open("rb") as src, out.open("wb") as dst:
        gunzip = _Gunzip(dst)
        for chunk in iter(lambda: src.read(_CHUNK), b""):
            sha.update(chunk)
            if problem is None:
                try:
                    gunzip.feed(chunk)
                except zlib.error as exc:
                    problem = f"not a readable gzip file ({exc})"
        problem = problem or gunzip.problem()
    return sha.hexdigest(), problem


def _write_text_copy(data: np.ndarray, lines: _Lines, cut: list[tuple[int, int]], out: Path) -> None:
    """The bytes the reader will parse: CR endings as LF, mixed CRLF endings as LF, the byte ranges in cut
    left out, and a final line break, so that an emptied last record still counts as a line."""
    with out.open("wb") as dst:
        for i in range(0, len(data), _CHUNK):
            chunk = data[i : i + _CHUNK]
            if lines.cr_only:
                chunk = np.where(chunk == 13, np.uint8(10), chunk)
            keep = np.ones(len(chunk), dtype=bool)
            lo, hi = np.searchsorted(lines.mixed_crs, [i, i + len(chunk)])
            keep[lines.mixed_crs[lo:hi] - i] = False
            for start, end in cut:  # few: only the over-size records
                keep[max(start - i, 0) : max(min(end - i, len(chunk)), 0)] = False
            dst.write(chunk[keep].tobytes())
        if len(data) and data[-1] != (13 if lines.cr_only else 10):
            dst.write(b"\n")


def _scan_text(
    source: Path,
    lines: _Lines,
    sha: str,
    size: int,
    limit: int,
    scratch: Path | None,
    decompressed: Path | None,
) -> FileScan:
    over = np.flatnonzero(lines.lengths > limit)
    oversize = tuple((int(i) + 1, int(lines.lengths[i])) for i in over)
    if not lines.cr_only and not len(lines.mixed_crs) and not oversize:
        return FileScan(sha, size, lines.starts, lines.blank, (), limit, decompressed)
    if scratch is None:
        raise ValueError("a scratch folder is needed to rewrite line endings or over-size records")
    text = scratch / "text"
    cut = [(int(lines.starts[i]), int(lines.starts[i] + lines.lengths[i])) for i in over]
    with source.open("rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        data = np.frombuffer(mm, dtype=np.uint8)
        _write_text_copy(data, lines, cut, text)
        del data  # release the buffer before the mmap closes
    copy = _stream_lines(text)
    if len(copy.starts) != len(lines.starts):  # the copy must keep every line number
        raise FileProblem(
            f"line endings could not be normalised ({len(lines.starts)} lines became {len(copy.starts)})"
        )
    return FileScan(sha, size, copy.starts, copy.blank, oversize, limit, text)


def scan_file(
    path: Path,
    with_lines: bool,
    *,
    compressed: bool = False,
    max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES,
    scratch: Path | None = None,
) -> FileScan:
    """sha256 of the file as landed and, for text formats, its physical lines (see FileScan).

    One pass over the bytes in chunks: the checksum and the line breaks together. A gzip file is inflated
    into ``scratch`` as it is hashed, then its text is scanned the same way.
    """
    size = path.stat().st_size
    if compressed and with_lines:
        if scratch is None:
            raise ValueError("a scratch folder is needed to read a compressed file")
        inflated = scratch / "inflated"
        sha, problem = _gunzip(path, inflated)
        if problem or inflated.stat().st_size == 0:
            return _empty_scan(sha, size, max_record_bytes, problem)
        scan = _scan_text(inflated, _stream_lines(inflated), sha, size, max_record_bytes, scratch, inflated)
        if scan.text != inflated:
            inflated.unlink()
        return scan
    if size == 0:
        return _empty_scan(hashlib.sha256(b"").hexdigest(), 0, max_record_bytes)
    if not with_lines:
        return _empty_scan(_hash_file(path), size, max_record_bytes)
    sha = hashlib.sha256()
    lines = _stream_lines(path, sha)
    return _scan_text(path, lines, sha.hexdigest(), size, max_record_bytes, scratch, None)


def reader_line_limit(max_record_bytes: int) -> int:
    """DuckDB's max_line_size for a file: room for every record that is not over the limit (with its line
    break), never below DuckDB's own default of 2 MB."""
    return max(max_record_bytes + 2, 2 << 20)


def oversize_reason(size: int, limit: int) -> str:
    return f"record of {size:,} bytes is over the {limit:,}-byte limit (CLM_MAX_RECORD_BYTES): not read"


def stage_oversize(con: duckdb.DuckDBPyConnection, scan: FileScan, first_line: int) -> int:
    """Add the over-size records (emptied in the parsed copy) to _clm_rejected; returns how many."""
    rows = [(line, None, oversize_reason(size, scan.max_record_bytes)) for line, size in scan.oversize]
    rows = [r for r in rows if r[0] >= first_line]
    if rows:
        con.executemany(f"insert into {REJECTED_ROWS} (line, raw, reason) values (?, ?, ?)", rows)
    return len(rows)


def register_lines(con: duckdb.DuckDBPyConnection, scan: FileScan) -> None:
    lines = np.arange(1, len(scan.starts) + 1, dtype=np.int64)
    con.register(PHYS, pa.table({"line": lines, "start": scan.starts, "blank": scan.blank}))


def sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _drop_reject_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"drop table if exists {_REJ_ERRORS}; drop table if exists {_REJ_SCANS}")


def _reject_options() -> str:
    return f"store_rejects=true, rejects_table='{_REJ_ERRORS}', rejects_scan='{_REJ_SCANS}'"


def _count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    return con.execute(f"select count(*) from {table}").fetchone()[0]


# --- malformed records -> physical lines ------------------------------------------------------------


def _stage_rejected_lines(con: duckdb.DuckDBPyConnection, first_data_line: int, what: str) -> None:
    """One _clm_rejected row per non-blank physical line inside a record DuckDB rejected.

    DuckDB reports a malformed record by the byte offset of its start (give or take the newline before
    it) and its text, which for an unterminated quote runs over the following lines: every one of those
    lines is quarantined under its own number, so none vanishes.
    """
    if not _count(con, _REJ_ERRORS):
        # The common case: nothing rejected, and planning the query below costs more than reading the file.
        _empty_rejected(con)
        return
    con.execute(
        f"""
        create or replace temp table {REJECTED_ROWS} as
        with errors as (
            select line_byte_position as pos,
                   list(distinct error_type::varchar order by error_type::varchar) as types,
                   arg_max(csv_line, length(csv_line)) as csv_line
            from {_REJ_ERRORS} group by line_byte_position
        ), located as (
            select e.types, trim(e.csv_line, chr(13) || chr(10)) as text, p.line as first_line
            from errors e asof join (select * from {PHYS} where not blank and line >= {first_data_line}) p
                 on p.start >= e.pos - 1
        ), spans as (
            select first_line, types, string_split(replace(text, chr(13), ''), chr(10)) as parts from located
        ), lines as (
            select first_line, types, len(parts) as n, unnest(parts) as raw,
                   first_line + generate_subscripts(parts, 1) - 1 as line
            from spans
        )
        select distinct on (l.line) l.line, l.raw,
               '{what}: ' || array_to_string(list_transform(l.types, lambda t: coalesce(
                   {_error_case("t")}, lower(t))), ', ')
               || case when l.n > 1 then ' (record spans lines ' || l.first_line || '-'
                       || (l.first_line + l.n - 1) || ')' else '' end as reason
        from lines l join {PHYS} p on p.line = l.line and not p.blank
        order by l.line, l.first_line
        """
    )


def _empty_rejected(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"create or replace temp table {REJECTED_ROWS} (line bigint, raw varchar, reason varchar)")


def _error_case(col: str) -> str:
    whens = " ".join(f"when {sql_literal(k)} then {sql_literal(v)}" for k, v in _CSV_ERRORS.items())
    return f"case {col} {whens} end"


def _numbered(read_table: str, first_data_line: int, span_sql: str, blank_rows: bool) -> str:
    """SQL selecting read_table's rows with _ord, _row_number and _span (the lines each takes).

    The accepted records, in file order, take the lines left after the rejected ones (the CSV reader
    skips blank lines, the line reader returns them); a CSV record whose quoted values hold newlines
    takes that many more non-blank lines.
    """
    return f"""
        with free as (
            select p.line, row_number() over (order by p.line) - 1 as k
            from {PHYS} p anti join {REJECTED_ROWS} r on r.line = p.line
            where {"true" if blank_rows else "not p.blank"} and p.line >= {first_data_line}
        ), ordered as (
            select row_number() over (order by rowid) as _ord, {span_sql} as _span, * from {read_table}
        ), spans as (
            select *, coalesce(sum(_span) over (order by _ord rows between unbounded preceding
                                                and 1 preceding), 0) as k
            from ordered
        )
        select s.* exclude (k), f.line as _row_number from spans s left join free f using (k)
    """


def _numbered_in_order(
    con: duckdb.DuckDBPyConnection, read_table: str, scan: FileScan, first_data_line: int
) -> str | None:
    """_numbered's result without its sorts and joins, for the common file: nothing rejected, no blank
    line, and one record read per physical line. Then record k (in file order) is line k, each spans one
    line, and rowid (insertion order) gives both. None when the file needs the general numbering."""
    lines = len(scan.starts) - (first_data_line - 1)
    if lines <= 0 or _count(con, REJECTED_ROWS) or scan.nonblank_lines(first_data_line) != lines:
        return None
    # rowids count up in insertion order, from an offset inside an open transaction: checked contiguous
    first, last, rows = con.execute(f"select min(rowid), max(rowid), count(*) from {read_table}").fetchone()
    if rows != lines or last - first + 1 != rows:
        return None  # a record over several lines (quoted line breaks), or lines the reader skipped
    return f"""select rowid - {first - 1} as _ord, 1 as _span, *,
                      rowid - {first - first_data_line} as _row_number
               from {read_table}"""


def _value_lines_sql(column: str) -> str:
    """Non-blank physical lines a quoted CSV value adds to its record: its line breaks, less the lines
    that lie wholly inside it and are empty (the line scan calls those blank)."""
    parts = f"string_split({column}, chr(10))"
    inner_blank = f"len(list_filter({parts}[2:-2], lambda x: x = '' or x = chr(13)))"
    return f"case when contains({column}, chr(10)) then len({parts}) - 1 - {inner_blank} else 0 end"


def _unplaced(con: duckdb.DuckDBPyConnection) -> int:
    return con.execute(f"select count(*) from {REC} where _row_number is null").fetchone()[0]


def _continuation_lines(con: duckdb.DuckDBPyConnection) -> int:
    """Lines that accepted records take beyond their first (CSV values holding line breaks)."""
    return con.execute(f"select coalesce(sum(_span - 1), 0)::bigint from {REC}").fetchone()[0]


# --- field resolution ---------------------------------------------------------------------------------


def _target_fields(entity: Entity) -> list[tuple[str, str, bool]]:
    """(path, output column, required) for every parent field and every child array."""
    out = [(f.path, f.column, f.required) for f in entity.fields]
    out += [(c.array_path, f"__arr_{c.array_path}", True) for c in entity.children]
    return out


def _json_path(segments: list[str]) -> str:
    return "$." + ".".join('"' + s + '"' for s in segments)


@dataclass
class _Extraction:
    """json_extract_string(source, [paths]) once per record, then one list element per field."""

    source_sql: str
    guard: bool = True  # False when the rows are already known to hold valid JSON
    paths: list[str] = field(default_factory=list)

    def element(self, path: str) -> int:
        if path not in self.paths:
            self.paths.append(path)
        return self.paths.index(path) + 1

    def select_sql(self, alias: str) -> str:
        paths = ", ".join(sql_literal(p) for p in self.paths)
        extract = f"json_extract_string({self.source_sql}, [{paths}])"
        if not self.guard:
            return f"{extract} as {alias}"
        return f"case when json_valid({self.source_sql}) then {extract} end as {alias}"


def _build_src(
    con: duckdb.DuckDBPyConnection,
    exprs: dict[str, str],
    extractions: dict[str, _Extraction],
    pre_checks: list[str],
    where: str = "true",
) -> None:
    inner = ", ".join(e.select_sql(alias) for alias, e in extractions.items() if e.paths)
    pre = f"nullif(concat_ws('; ', {', '.join(pre_checks)}), '')" if pre_checks else "null::varchar"
    cols = ", ".join(f"{sql} as {ident(col)}" for col, sql in exprs.items())
    con.execute(
        f"""create or replace temp table {SRC} as
            select _ord, _row_number, {cols}, {pre} as __pre
            from (select *{", " + inner if inner else ""} from {REC} where {where})"""
    )


def _tabular_src(con: duckdb.DuckDBPyConnection, entity: Entity, header: list[str]) -> list[str]:
    """Map CSV/Parquet columns (c0, c1, ...) to fields; nested fields from dotted or JSON-text columns."""
    names: dict[str, str] = {}
    for i, name in enumerate(header):
        key = name.strip().lower()
        names.setdefault(key, f"c{i}")
        names.setdefault(key.replace("__", "."), f"c{i}")
    exprs: dict[str, str] = {}
    extractions: dict[str, _Extraction] = {}
    pre_checks: list[str] = []
    missing: list[str] = []
    for path, column, required in _target_fields(entity):
        segments = path.lower().split(".")
        if path.lower() in names:
            exprs[column] = names[path.lower()]
            continue
        for cut in range(len(segments) - 1, 0, -1):
            prefix = ".".join(segments[:cut])
            if prefix in names:
                col = names[prefix]
                if col not in extractions:
                    extractions[col] = _Extraction(col)
                    pre_checks.append(
                        f"case when {col} is not null and not json_valid({col}) "
                        f"then {sql_literal(prefix + ': not valid JSON')} end"
                    )
                index = extractions[col].element(_json_path(segments[cut:]))
                exprs[column] = f"__j_{col}[{index}]"
                break
        else:
            exprs[column] = "null::varchar"
            if required:
                missing.append(path)
    _build_src(con, exprs, {f"__j_{c}": e for c, e in extractions.items()}, pre_checks)
    return missing


def _tabular_raw_sql(header: list[str]) -> str:
    pairs = ", ".join(f"{sql_literal(name)}, c{i}" for i, name in enumerate(header))
    return f"json_object({pairs})::varchar"


# --- CSV ---------------------------------------------------------------------------------------------


def _csv_header(path: Path, scan: FileScan) -> list[str]:
    if any(line == 1 for line, _ in scan.oversize):
        size = dict(scan.oversize)[1]
        raise FileProblem(f"the CSV header line: {oversize_reason(size, scan.max_record_bytes)}")
    with path.open("rb") as fh:
        first = fh.readline()
    try:
        text = first.decode("utf-8-sig").rstrip("\r\n")
    except UnicodeDecodeError:
        raise FileProblem("the CSV header line is not valid UTF-8") from None
    header = next(csv.reader(io.StringIO(text)), [])
    if not any(h.strip() for h in header):
        raise FileProblem("the CSV file has no header line")
    return header


def stage_csv(con: duckdb.DuckDBPyConnection, entity: Entity, path: Path, scan: FileScan) -> Staged:
    parsed = scan.parsed(path)
    header = _csv_header(parsed, scan)
    columns = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(len(header))) + "}"
    _drop_reject_tables(con)
    try:
        # The header is parsed above, so nothing is sniffed: a malformed row cannot change the dialect.
        con.execute(
            f"""create or replace temp table _clm_csv as select * from read_csv({sql_literal(str(parsed))},
                columns={columns}, header=true, auto_detect=false, all_varchar=true, delim=',',
                quote='"', escape='"', null_padding=false,
                max_line_size={reader_line_limit(scan.max_record_bytes)}, {_reject_options()})"""
        )
    except duckdb.Error as exc:
        raise unreadable("CSV file", exc) from exc
    _stage_rejected_lines(con, first_data_line=2, what="malformed CSV record")
    span = " + ".join(["1", *(_value_lines_sql(f"c{i}") for i in range(len(header)))])
    numbered = _numbered_in_order(con, "_clm_csv", scan, 2) or _numbered("_clm_csv", 2, span, False)
    con.execute(f"create or replace temp table {REC} as {numbered}")
    con.execute("drop table _clm_csv")
    stage_oversize(con, scan, first_line=2)
    unplaced = _unplaced(con)
    notes = [f"{unplaced} records could not be given a line number"] if unplaced else []
    # A record spanning several lines is one record: physical records are the non-blank data lines less
    # the lines that accepted records continue on.
    physical = scan.records(first_line=2) - _continuation_lines(con)
    missing = _tabular_src(con, entity, header)
    staged = Staged(_count(con, SRC), _count(con, REJECTED_ROWS), _tabular_raw_sql(header), missing, notes)
    staged.physical, staged.unplaced = physical, unplaced
    return staged


# --- JSON Lines ----------------------------------------------------------------------------------------


def stage_jsonl(con: duckdb.DuckDBPyConnection, entity: Entity, path: Path, scan: FileScan) -> Staged:
    parsed = sql_literal(str(scan.parsed(path)))
    _drop_reject_tables(con)
    try:
        # One VARCHAR per physical line: no quoting, a delimiter that valid JSON cannot contain raw.
        con.execute(
            f"""create or replace temp table {_LINES} as select text from read_csv({parsed},
                columns={{'text': 'VARCHAR'}}, header=false, auto_detect=false, delim='{_JSONL_DELIM}',
                quote='', escape='', strict_mode=false,
                max_line_size={reader_line_limit(scan.max_record_bytes)}, {_reject_options()})"""
        )
    except duckdb.Error as exc:
        raise unreadable("JSON Lines file", exc) from exc
    _stage_rejected_lines(con, first_data_line=1, what="unreadable line")
    numbered = _numbered_in_order(con, _LINES, scan, 1) or _numbered(_LINES, 1, "1", True)
    # Blank lines are not records. A line that is JSON is not blank: only the others are trimmed (trim() of a
    # long line costs more than parsing it). Deleted after, not filtered while reading: a filter on __type
    # would parse each line twice (once in the filter, once for the column).
    con.execute(
        f"""create or replace temp table {REC} as select *, try(json_type(text)) as __type from ({numbered});
            delete from {REC} where __type is null and trim(coalesce(text, '')) = ''"""
    )
    con.execute(
        f"""insert into {REJECTED_ROWS}
            select _row_number, text,
                   case when __type is null then 'not valid JSON'
                        else 'not a JSON object (' || lower(__type) || ')' end
            from {REC} where __type is distinct from 'OBJECT'"""
    )
    stage_oversize(con, scan, first_line=1)
    unplaced = _unplaced(con)
    notes = [f"{unplaced} records could not be given a line number"] if unplaced else []
    keys = [
        k
        for (k,) in con.execute(
            f"select distinct unnest(json_keys(text)) from {REC} where __type = 'OBJECT' order by 1"
        ).fetchall()
    ]
    missing = _json_src(con, entity, keys)
    staged = Staged(_count(con, SRC), _count(con, REJECTED_ROWS), "text", missing, notes)
    staged.physical, staged.unplaced = scan.records(first_line=1), unplaced
    return staged


def _json_src(con: duckdb.DuckDBPyConnection, entity: Entity, keys: list[str]) -> list[str]:
    """Top-level keys match case-insensitively (and may be flattened 'a.b' / 'a__b'); nested keys exactly."""
    spellings: dict[str, list[str]] = {}
    for key in keys:
        if '"' not in key:
            spellings.setdefault(key.lower(), []).append(key)
    extraction = _Extraction("text", guard=False)
    exprs: dict[str, str] = {}
    missing: list[str] = []
    for path, column, required in _target_fields(entity):
        segments = path.split(".")
        candidates = [[k] for k in spellings.get(path.lower(), [])]
        candidates += [[k] for k in spellings.get(path.lower().replace(".", "__"), []) if len(segments) > 1]
        if len(segments) > 1:
            candidates += [[k, *segments[1:]] for k in spellings.get(segments[0].lower(), [])]
        if not candidates:
            exprs[column] = "null::varchar"
            if required:
                missing.append(path)
            continue
        elements = [f"__j[{extraction.element(_json_path(c))}]" for c in candidates]
        exprs[column] = elements[0] if len(elements) == 1 else f"coalesce({', '.join(elements)})"
    _build_src(con, exprs, {"__j": extraction}, [], where="__type = 'OBJECT'")
    return missing


# --- Parquet -------------------------------------------------------------------------------------------


def stage_parquet(con: duckdb.DuckDBPyConnection, entity: Entity, path: Path) -> Staged:
    literal = sql_literal(str(path))
    try:
        described = con.execute(f"describe select * from read_parquet({literal})").fetchall()
        header = [row[0] for row in described]
        casts = ", ".join(
            f"{_parquet_text(ident(name), str(kind))} as c{i}" for i, (name, kind, *_) in enumerate(described)
        )
        con.execute(
            f"""create or replace temp table {REC} as
                select file_row_number + 1 as _ord, file_row_number + 1 as _row_number, {casts}
                from read_parquet({literal}, file_row_number=true)"""
        )
    except duckdb.Error as exc:
        raise unreadable("Parquet file", exc) from exc
    _empty_rejected(con)
    missing = _tabular_src(con, entity, header)
    staged = Staged(_count(con, SRC), 0, _tabular_raw_sql(header), missing)
    staged.physical = parquet_rows(con, path)  # from the file's metadata, not from reading its rows
    return staged


def _parquet_text(column: str, kind: str) -> str:
    # Nested values travel as JSON text, like a JSON-text column in a CSV file.
    if kind.endswith("]") or kind.startswith(("STRUCT", "MAP", "UNION")):
        return f"to_json({column})::varchar"
    return f"cast({column} as varchar)"


# DuckDB's error text can quote the offending value (e.g. a string that is not UTF-8), and reasons reach BI in
# audit: the reason is worded here from the kind of failure, never passed through.
_UNREADABLE_KINDS = (
    ("utf8", "a text value is not valid UTF-8"),
    ("utf-8", "a text value is not valid UTF-8"),
    ("encoding", "a text value is not valid UTF-8"),
    ("magic bytes", "not a Parquet file (or a truncated one)"),
    ("no magic", "not a Parquet file (or a truncated one)"),
    ("too small to be a parquet file", "not a Parquet file (or a truncated one)"),
    ("out of memory", "too large to read within the memory limit"),
)


def unreadable(what: str, exc: duckdb.Error) -> FileProblem:
    text = str(exc).lower()
    kind = next((said for fragment, said in _UNREADABLE_KINDS if fragment in text), None)
    return FileProblem(f"unreadable {what}: {kind or 'the reader failed (' + type(exc).__name__ + ')'}")


def parquet_rows(con: duckdb.DuckDBPyConnection, path: Path) -> int:
    """Rows of a Parquet file according to its footer metadata."""
    try:
        return con.execute(
            f"select coalesce(sum(num_rows), 0) from parquet_file_metadata({sql_literal(str(path))})"
        ).fetchone()[0]
    except duckdb.Error as exc:
        raise unreadable("Parquet file", exc) from exc


def count_records(con: duckdb.DuckDBPyConnection, fmt: str, path: Path, scan: FileScan) -> int:
    """Physical records of a file: non-blank data lines (over-size ones included) or Parquet rows."""
    if fmt == "csv":
        return scan.records(first_line=2)
    if fmt == "jsonl":
        return scan.records(first_line=1)
    return parquet_rows(con, path)

"""The floor of `clm run`: DuckDB reading every landed extract once into a table, nothing else.

No validation, no typing beyond DuckDB's auto-detection, no models: the least any warehouse must do with the
landing zone, so `clm run` seconds / floor seconds says what everything else costs. One table per landed
file (`read_csv`, `read_json` newline-delimited, `read_parquet`; `.csv.gz` and `.jsonl.gz` too) in a fresh
DuckDB file. benchmarks/run.py runs this as a subprocess and measures its time and peak memory.

Usage: python benchmarks/floor.py --raw DIR --db FILE [--memory-limit 2GB]
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

import duckdb

# Readers by extension; DuckDB decompresses .gz from the name.
READERS = {
    ".csv": "read_csv('{path}')",
    ".csv.gz": "read_csv('{path}')",
    ".jsonl": "read_json('{path}', format = 'newline_delimited')",
    ".jsonl.gz": "read_json('{path}', format = 'newline_delimited')",
    ".ndjson": "read_json('{path}', format = 'newline_delimited')",
    ".json": "read_json('{path}')",
    ".parquet": "read_parquet('{path}')",
}


def reader_sql(path: Path) -> str | None:
    """The DuckDB table function reading `path`, or None for a file the floor does not read."""
    name = path.name.lower()
    for suffix in sorted(READERS, key=len, reverse=True):  # .csv.gz before .gz-less .csv
        if name.endswith(suffix):
            return READERS[suffix].format(path=str(path).replace("'", "''"))
    return None


def landed_files(raw: Path) -> list[Path]:
    """Every data file of the landing zone (<source>/<entity>/load_date=.../<file>), hidden and `_` files
    (the generator's metadata) left out, in a stable order."""
    return sorted(
        p
        for p in raw.glob("*/*/load_date=*/*")
        if p.is_file() and not p.name.startswith((".", "_")) and reader_sql(p) is not None
    )


def table_name(raw: Path, path: Path) -> str:
    """A unique identifier from the file's place in the layout: billing_invoices_2026_10_17_x_jsonl."""
    rel = path.relative_to(raw).as_posix().replace("load_date=", "")
    return re.sub(r"[^0-9a-zA-Z]+", "_", rel).strip("_")


def load_all(raw: Path, db: Path, memory_limit: str | None) -> tuple[int, int]:
    """(files, rows) after one `create table ... as select * from <reader>` per landed file."""
    rows = 0
    files = landed_files(raw)
    with duckdb.connect(str(db)) as con:
        if memory_limit:
            con.execute(f"set memory_limit = '{memory_limit}'")
        for path in files:
            name = table_name(raw, path)
            con.execute(f'create table "{name}" as select * from {reader_sql(path)}')
            rows += con.execute(f'select count(*) from "{name}"').fetchone()[0]
    return len(files), rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--raw", type=Path, required=True, help="landing zone root (clm generate --out)")
    parser.add_argument("--db", type=Path, required=True, help="DuckDB file to create (replaced if present)")
    parser.add_argument("--memory-limit", default=None, help="DuckDB memory_limit, e.g. 2GB")
    args = parser.parse_args(argv)
    for stale in (args.db, args.db.with_name(args.db.name + ".wal")):
        stale.unlink(missing_ok=True)
    start = time.perf_counter()
    files, rows = load_all(args.raw, args.db, args.memory_limit)
    print(f"floor: {files} files, {rows:,} rows into {args.db} in {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())

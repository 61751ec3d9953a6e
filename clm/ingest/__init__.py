"""Ingestion: landed extracts -> ``raw`` schema of the build database, with a load manifest and quarantine.

``ingest`` walks ``<raw_dir>/<source>/<entity>/load_date=YYYY-MM-DD/*.csv|.jsonl|.parquet`` (``.csv.gz`` and
``.jsonl.gz`` too) in (source, entity, load_date, path) order and, per file, in one transaction: reads it with
DuckDB's own readers, validates every value against ``schemas``, appends good records to
``raw.<source>__<entity>`` (array elements to the child tables), records the file in ``audit.load_manifest``
and rejected rows in ``audit.quarantine`` (their text under ``<quarantine_dir>/<run_id>/``).

Nothing is lost: the physical records of every file, counted from its bytes (lines, whatever their endings;
Parquet rows from its metadata), equal rows_loaded + rows_quarantined, or the file is quarantined whole. A
file already in the manifest is skipped, a re-sent copy of a loaded file is recorded as a duplicate with no
rows, and a drop dated after today is recorded as not loaded until its date comes. Symlinks leading outside
the landing zone are never followed; every entry not read is reported.
"""

from clm.ingest.discover import newest_load_date
from clm.ingest.load import ingest
from clm.ingest.results import FileResult, IngestResult

__all__ = ["FileResult", "IngestResult", "ingest", "newest_load_date"]

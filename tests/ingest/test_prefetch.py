"""The next file's scan (checksum, line breaks, a decompressed or normalised copy) runs in a background
thread while the file before it loads (clm.ingest.load._Prefetch). A file scanned that way must come out
exactly as when it is the only file of the landing zone: same status, counts, quarantined lines and reasons,
and no scratch copy left behind.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from clm.ingest.results import SKIPPED, FileResult
from tests.ingest.conftest import Landing, assert_balanced

DAY = "2026-10-20"
SPEND_HEADER = "spend_date,channel,amount,currency"


def _customer(i: int, **extra: object) -> str:
    record = {"id": f"cus_{i}", "email": f"c{i}@x.com", "created": 1_790_000_000, "currency": "usd"}
    return json.dumps(record | extra)


def _spend(lines: list[str], ending: str = "\n") -> bytes:
    return (ending.join([SPEND_HEADER, *lines]) + ending).encode()


# (source, entity, name, bytes): good and bad rows, a gzip file and a CR-only file (both parsed from a copy
# in the scan's scratch folder), a malformed CSV row, and a file quarantined whole.
FILES = [
    ("billing", "customers", "a.jsonl", "\n".join([_customer(1), "{not json", _customer(2), ""]).encode()),
    (
        "billing",
        "customers",
        "b.jsonl.gz",
        gzip.compress(("\n".join([_customer(3), _customer(4, currency="zzz"), "[1]"]) + "\n").encode()),
    ),
    ("crm", "marketing_spend", "c.csv", _spend(["2026-10-01,ads,100,USD", '2026-10-02,"seo,5,USD'])),
    ("crm", "marketing_spend", "d.csv", _spend(["2026-10-03,ads,-7,USD", "2026-10-04,tv,9,USD"], "\r")),
    ("crm", "marketing_spend", "e.csv", b"spend_date,channel\n2026-10-05,ads\n"),
    ("crm", "marketing_spend", "f.csv", _spend(["2026-10-06,ads,1,USD"], "\r\n")),
]


def _outcome(landing: Landing, f: FileResult) -> tuple:
    name = Path(f.file_path).name
    counts = (f.status, f.rows_read, f.rows_loaded, f.rows_quarantined)
    return name, counts, landing.quarantine_lines(name)


def test_files_scanned_while_the_one_before_loads_come_out_as_when_alone(tmp_path: Path) -> None:
    together = Landing(tmp_path / "together")
    for source, entity, name, data in FILES:
        together.write(source, entity, DAY, name, data)
    result = together.ingest()
    assert_balanced(result)
    assert [Path(f.file_path).name for f in result.files] == [name for *_, name, _ in FILES]
    outcomes = [_outcome(together, f) for f in result.files]

    alone = []
    for i, (source, entity, name, data) in enumerate(FILES):
        landing = Landing(tmp_path / f"alone{i}")
        landing.write(source, entity, DAY, name, data)
        (f,) = landing.ingest().files
        alone.append(_outcome(landing, f))
    assert outcomes == alone
    # The cases are what they claim: rows quarantined in most files, one file refused whole.
    assert [counts for _, counts, _ in outcomes] == [
        ("loaded", 3, 2, 1),
        ("loaded", 3, 1, 2),
        ("loaded", 2, 1, 1),
        ("loaded", 2, 1, 1),
        ("quarantined_file", 1, 0, 1),
        ("loaded", 1, 1, 0),
    ]
    assert not (together.quarantine / ".ingest-scratch").exists()


def test_a_rerun_scans_recorded_paths_for_their_checksum_only_and_skips_them(tmp_path: Path) -> None:
    landing = Landing(tmp_path)
    for source, entity, name, data in FILES:
        landing.write(source, entity, DAY, name, data)
    first = landing.ingest()
    again = landing.ingest()
    assert [f.status for f in again.files] == [SKIPPED] * len(FILES)
    assert [f.sha256 for f in again.files] == [f.sha256 for f in first.files]

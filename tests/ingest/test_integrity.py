"""Nothing lost (docs/bad-input.md#record-accounting): physical records counted from the bytes equal rows
loaded + quarantined.

Covers huge records (DuckDB's reader drops a record of about 40 MB without a trace), the record size limit
(CLM_MAX_RECORD_BYTES), CR-only and CRLF line endings, Parquet row counts and gzip-compressed files. Large
files are built in tmp_path at test time.
"""

from __future__ import annotations

import gzip
import hashlib
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from clm.config import DEFAULT_MAX_RECORD_BYTES, SettingsError, load_settings
from clm.ingest import readers
from tests.ingest.conftest import Landing, assert_balanced, only

DAY = "2026-10-20"
SPEND_HEADER = "spend_date,channel,amount,currency"
MB = 1024 * 1024
HUGE = 41 * MB  # DuckDB's CSV reader loses a line this long at its default limits


def _huge_spend_csv(landing: Landing) -> int:
    """3 records on lines 2-4; line 3 holds a 41 MB channel. Returns line 3's size in bytes."""
    big = f"2026-10-02,{'x' * HUGE},200,USD"
    lines = [SPEND_HEADER, "2026-10-01,ads,100,USD", big, "2026-10-03,seo,300,USD"]
    landing.write("crm", "marketing_spend", DAY, "spend.csv", "\n".join(lines) + "\n")
    return len(big)  # without its line break


def _customer(i: int, **extra: object) -> dict:
    return {"id": f"cus_{i}", "email": f"c{i}@x.com", "created": 1_790_000_000, "currency": "usd"} | extra


def _huge_customers_jsonl(landing: Landing) -> int:
    """3 records on lines 1-3; line 2 carries a 41 MB field. Returns line 2's size in bytes."""
    big = json.dumps(_customer(2, note="y" * HUGE))
    lines = [json.dumps(_customer(1)), big, json.dumps(_customer(3))]
    landing.write("billing", "customers", DAY, "customers.jsonl", "\n".join(lines) + "\n")
    return len(big)


def test_41mb_csv_record_is_quarantined_at_its_line_and_the_rest_loads(landing: Landing) -> None:
    size = _huge_spend_csv(landing)
    f = only(landing.ingest())
    # 3 physical records (lines 2, 3, 4): 2 loaded, line 3 over the default 16 MB limit.
    assert (f.status, f.rows_read, f.rows_loaded, f.rows_quarantined) == ("loaded", 3, 2, 1)
    assert size == 42_991_635  # len("2026-10-02,") 11 + 41 * 1024 * 1024 (42,991,616) + len(",200,USD") 8
    assert landing.quarantine_lines("spend.csv") == [
        (3, "record of 42,991,635 bytes is over the 16,777,216-byte limit (CLM_MAX_RECORD_BYTES): not read")
    ]
    # The record after the huge one keeps its own line number (DuckDB alone would give it line 3).
    assert landing.rows("select channel, _row_number from raw.crm__marketing_spend order by 2") == [
        ("ads", 2),
        ("seo", 4),
    ]


def test_41mb_jsonl_record_is_quarantined_at_its_line_and_the_rest_loads(landing: Landing) -> None:
    size = _huge_customers_jsonl(landing)
    f = only(landing.ingest())
    assert (f.status, f.rows_read, f.rows_loaded, f.rows_quarantined) == ("loaded", 3, 2, 1)
    assert landing.quarantine_lines("customers.jsonl") == [
        (2, f"record of {size:,} bytes is over the 16,777,216-byte limit (CLM_MAX_RECORD_BYTES): not read")
    ]
    assert landing.rows("select id, _row_number from raw.billing__customers order by 2") == [
        ("cus_1", 1),
        ("cus_3", 3),
    ]


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_a_record_the_reader_loses_quarantines_the_file_whole(
    landing: Landing, monkeypatch: pytest.MonkeyPatch, fmt: str
) -> None:
    """With a limit above 41 MB and DuckDB left at its own 2 MB line size, DuckDB's reader drops the huge
    record without a reject: the physical count catches it and nothing of the file loads."""
    monkeypatch.setattr(readers, "reader_line_limit", lambda _limit: 2 * MB)
    if fmt == "csv":
        _huge_spend_csv(landing)
        table, name = "raw.crm__marketing_spend", "spend.csv"
    else:
        _huge_customers_jsonl(landing)
        table, name = "raw.billing__customers", "customers.jsonl"
    f = only(landing.ingest(max_record_bytes=64 * MB))
    assert (f.status, f.rows_read, f.rows_loaded, f.rows_quarantined) == ("quarantined_file", 3, 0, 3)
    reason = (
        "the file holds 3 physical records but the reader returned 2 (2 read, 0 rejected): "
        "quarantined whole, nothing loaded"
    )
    assert landing.quarantine_lines(name) == [(None, reason)]
    assert landing.rows(f"select count(*) from {table}") == [(0,)]


def test_a_record_just_over_a_small_limit(landing: Landing) -> None:
    # "2026-10-0N,ads,100." is 19 bytes and ",USD" 4: 57 zeros make 80 bytes, 58 make 81.
    at_limit = "2026-10-01,ads,100." + "0" * 57 + ",USD"
    over = "2026-10-02,ads,100." + "0" * 58 + ",USD"
    assert (len(at_limit), len(over)) == (80, 81)
    content = "\n".join([SPEND_HEADER, at_limit, over, "2026-10-03,seo,3,USD"]) + "\n"
    landing.write("crm", "marketing_spend", DAY, "spend.csv", content)
    f = only(landing.ingest(max_record_bytes=80))
    assert (f.rows_read, f.rows_loaded, f.rows_quarantined) == (3, 2, 1)
    assert landing.quarantine_lines("spend.csv") == [
        (3, "record of 81 bytes is over the 80-byte limit (CLM_MAX_RECORD_BYTES): not read")
    ]
    # The full text of a rejected row stays under the data directory; an over-size one is not copied there:
    # its file and line point at it in the (immutable) landing zone.
    [entry] = [json.loads(x) for x in (landing.quarantine / "run1" / "crm__marketing_spend.jsonl").open()]
    assert (entry["line"], entry["raw"]) == (3, None)


def test_an_over_size_csv_header_quarantines_the_file(landing: Landing) -> None:
    header = SPEND_HEADER + "," + "z" * 100  # 135 bytes
    landing.write("crm", "marketing_spend", DAY, "spend.csv", f"{header}\n2026-10-01,ads,1,USD\n")
    f = only(landing.ingest(max_record_bytes=100))
    assert (f.status, f.rows_read, f.rows_quarantined) == ("quarantined_file", 1, 1)
    assert f.message == (
        "the CSV header line: record of 135 bytes is over the 100-byte limit (CLM_MAX_RECORD_BYTES): not read"
    )


def test_cr_only_csv_loads_every_record(landing: Landing) -> None:
    content = "\r".join([SPEND_HEADER, "2026-10-01,ads,1,USD", "2026-10-02,seo,2,USD", "2026-10-03,tv,3,EUR"])
    landing.write("crm", "marketing_spend", DAY, "spend.csv", content + "\r")
    f = only(landing.ingest())
    assert (f.status, f.rows_read, f.rows_loaded, f.rows_quarantined) == ("loaded", 3, 3, 0)
    assert landing.rows("select channel, currency, _row_number from raw.crm__marketing_spend order by 3") == [
        ("ads", "USD", 2),
        ("seo", "USD", 3),
        ("tv", "EUR", 4),
    ]


def test_cr_only_csv_with_a_bad_row_and_no_final_line_break(landing: Landing) -> None:
    lines = [
        SPEND_HEADER,
        "2026-10-01,ads,1,USD",
        "2026-10-02,seo",
        "",
        "2026-10-03,tv,x,EUR",
        "2026-10-04,tv,4,USD",
    ]
    landing.write("crm", "marketing_spend", DAY, "spend.csv", "\r".join(lines))
    f = only(landing.ingest())
    # Records on lines 2, 3, 5, 6 (line 4 is blank): line 3 too short, line 5 not a number.
    assert (f.rows_read, f.rows_loaded, f.rows_quarantined) == (4, 2, 2)
    assert landing.quarantine_lines("spend.csv") == [
        (3, "malformed CSV record: fewer fields than the header"),
        (5, "amount: not a number"),
    ]
    assert landing.rows("select spend_date, _row_number from raw.crm__marketing_spend order by 2") == [
        ("2026-10-01", 2),
        ("2026-10-04", 6),
    ]


def test_cr_only_jsonl_loads_every_record(landing: Landing) -> None:
    content = "\r".join(json.dumps(_customer(i)) for i in (1, 2, 3)) + "\r"
    landing.write("billing", "customers", DAY, "customers.jsonl", content)
    f = only(landing.ingest())
    assert (f.status, f.rows_read, f.rows_loaded, f.rows_quarantined) == ("loaded", 3, 3, 0)
    assert landing.rows("select id, _row_number from raw.billing__customers order by 2") == [
        ("cus_1", 1),
        ("cus_2", 2),
        ("cus_3", 3),
    ]


def test_crlf_csv_with_a_quoted_line_break_and_blank_lines(landing: Landing) -> None:
    lines = [
        SPEND_HEADER,  # 1
        "2026-10-01,ads,1,USD",  # 2
        '2026-10-02,"two',  # 3: a quoted value over lines 3-5, with an empty line 4 inside it
        "",  # 4
        'lines",2,USD',  # 5
        "",  # 6 blank
        "2026-10-03,seo,-3,USD",  # 7 negative amount
    ]
    landing.write("crm", "marketing_spend", DAY, "spend.csv", "\r\n".join(lines) + "\r\n")
    f = only(landing.ingest())
    # Records: line 2, lines 3-5 (one record), line 7 = 3.
    assert (f.status, f.rows_read, f.rows_loaded, f.rows_quarantined) == ("loaded", 3, 2, 1)
    assert landing.quarantine_lines("spend.csv") == [(7, "amount: negative")]
    assert landing.rows("select channel, _row_number from raw.crm__marketing_spend order by 2") == [
        ("ads", 2),
        ("two\r\n\r\nlines", 3),
    ]


def test_parquet_rows_come_from_its_metadata(landing: Landing) -> None:
    table = pa.table(
        {
            "spend_date": ["2026-10-01", "2026-10-02", "2026-10-03", "2026-10-04", "2026-10-05"],
            "channel": ["ads", "seo", "tv", "ads", "seo"],
            "amount": ["1", "2", "x", "4", "5"],
            "currency": ["USD"] * 5,
        }
    )
    path = landing.write("crm", "marketing_spend", DAY, "spend.parquet", b"")
    pq.write_table(table, path, row_group_size=2)  # 3 row groups: 2 + 2 + 1 rows
    f = only(landing.ingest())
    assert (f.status, f.rows_read, f.rows_loaded, f.rows_quarantined) == ("loaded", 5, 4, 1)
    assert landing.quarantine_lines("spend.parquet") == [(3, "amount: not a number")]


def test_gzip_csv_and_jsonl_load_like_their_plain_versions(landing: Landing) -> None:
    csv_text = "\n".join(
        [SPEND_HEADER, "2026-10-01,ads,1,USD", "2026-10-02,seo,x,USD", "2026-10-03,tv,3,USD"]
    )
    csv_gz = gzip.compress((csv_text + "\n").encode(), mtime=0)
    csv_path = landing.write("crm", "marketing_spend", DAY, "spend.csv.gz", csv_gz)
    # Two gzip members, as `cat a.gz b.gz` gives: one stream of 3 lines, the last with CRLF.
    jsonl_gz = gzip.compress((json.dumps(_customer(1)) + "\n").encode(), mtime=0) + gzip.compress(
        (json.dumps(_customer(2)) + "\n" + json.dumps(_customer(3)) + "\r\n").encode(), mtime=0
    )
    landing.write("billing", "customers", DAY, "customers.JSONL.gz", jsonl_gz)
    customers, spend = landing.ingest().files
    assert (spend.status, spend.rows_read, spend.rows_loaded, spend.rows_quarantined) == ("loaded", 3, 2, 1)
    assert landing.quarantine_lines("spend.csv.gz") == [(3, "amount: not a number")]
    assert (customers.status, customers.rows_read, customers.rows_loaded) == ("loaded", 3, 3)
    assert landing.rows("select id, _row_number from raw.billing__customers order by 2") == [
        ("cus_1", 1),
        ("cus_2", 2),
        ("cus_3", 3),
    ]
    # The checksum is of the file as landed, so a re-sent copy is recognised byte for byte.
    assert spend.sha256 == hashlib.sha256(csv_path.read_bytes()).hexdigest()
    assert landing.rows("select file_path, format, status from audit.load_manifest order by 1") == [
        (f"billing/customers/load_date={DAY}/customers.JSONL.gz", "jsonl", "loaded"),
        (f"crm/marketing_spend/load_date={DAY}/spend.csv.gz", "csv", "loaded"),
    ]
    assert [f.status for f in landing.ingest().files] == ["skipped_already_loaded"] * 2


def test_a_truncated_gzip_file_is_quarantined_whole(landing: Landing) -> None:
    data = gzip.compress(b"spend_date,channel,amount,currency\n2026-10-01,ads,1,USD\n", mtime=0)
    landing.write("crm", "marketing_spend", DAY, "spend.csv.gz", data[:-12])  # cut inside the stream
    f = only(landing.ingest())
    assert (f.status, f.rows_read, f.message) == (
        "quarantined_file",
        0,
        "not a complete gzip file (truncated or not gzip at all)",
    )
    assert f.sha256 == hashlib.sha256(data[:-12]).hexdigest()
    assert [x.status for x in landing.ingest().files] == ["skipped_already_loaded"]  # recorded once


def test_max_record_bytes_setting() -> None:
    assert DEFAULT_MAX_RECORD_BYTES == 16 * 1024 * 1024
    assert load_settings({}).max_record_bytes == 16_777_216
    assert load_settings({"CLM_MAX_RECORD_BYTES": "1048576"}).max_record_bytes == 1_048_576
    with pytest.raises(SettingsError, match="CLM_MAX_RECORD_BYTES='16MB' is not a positive whole number"):
        load_settings({"CLM_MAX_RECORD_BYTES": "16MB"})


def test_every_file_balances(landing: Landing) -> None:
    """The invariant over a mixed drop: rows_read = rows_loaded + rows_quarantined for every file."""
    _huge_spend_csv(landing)
    landing.write("crm", "deals", DAY, "deals.csv", "deal_id\r\nd1\r\n")  # missing columns, CRLF
    landing.write("billing", "charges", DAY, "charges.jsonl", "{}\r{]\r")  # CR-only, both bad
    result = landing.ingest()
    assert [(f.status, f.rows_read, f.rows_quarantined) for f in result.files] == [
        ("quarantined_file", 2, 2),  # charges: 2 physical records, `id` etc. missing from every record
        ("quarantined_file", 1, 1),  # deals
        ("loaded", 3, 1),  # marketing_spend
    ]
    assert_balanced(result)


def test_csv_mixing_lf_and_crlf_endings_loads_every_row(landing: Landing) -> None:
    # A header written by one exporter (CRLF) and rows appended by another (LF), as `cat` of two files gives.
    # DuckDB's reader alone refuses the file ("unreadable"); clm parses a copy whose CRLF endings are LF.
    lines = [
        SPEND_HEADER + "\r\n",  # 1
        "2026-10-01,ads,1,USD\n",  # 2
        '2026-10-02,"two\r\n',  # 3: a quoted value over lines 3-4
        'lines",2,USD\r\n',  # 4
        "2026-10-03,seo,x,USD\n",  # 5: not a number
        "2026-10-04,tv,4,USD",  # 6: no final line break
    ]
    landing.write("crm", "marketing_spend", DAY, "spend.csv", "".join(lines))
    f = only(landing.ingest())
    # Records: line 2, lines 3-4 (one record), line 5, line 6 = 4.
    assert (f.status, f.rows_read, f.rows_loaded, f.rows_quarantined) == ("loaded", 4, 3, 1)
    assert landing.quarantine_lines("spend.csv") == [(5, "amount: not a number")]
    assert landing.rows("select channel, _row_number from raw.crm__marketing_spend order by 2") == [
        ("ads", 2),
        ("two\nlines", 3),  # the line break inside the quotes is normalised with the others
        ("tv", 6),
    ]

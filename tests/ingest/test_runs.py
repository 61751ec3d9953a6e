"""Run-level behaviour: discovery, idempotent reruns, duplicate and modified files, as_of, progress."""

from __future__ import annotations

from datetime import date

from clm.ingest import newest_load_date
from tests.ingest.conftest import Landing, assert_balanced

SPEND = "spend_date,channel,amount,currency\n2026-10-01,ads,10,USD\n2026-10-02,seo,20,EUR\n"


def test_rerun_is_a_noop(landing: Landing) -> None:
    landing.write("crm", "marketing_spend", "2026-10-20", "spend.csv", SPEND)
    first = landing.ingest()
    manifest = landing.rows("select * from audit.load_manifest")
    second = landing.ingest()
    assert [f.status for f in first.files] == ["loaded"]
    assert [(f.status, f.rows_read) for f in second.files] == [("skipped_already_loaded", 0)]
    assert landing.rows("select * from audit.load_manifest") == manifest
    assert landing.rows("select count(*) from raw.crm__marketing_spend") == [(2,)]


def test_duplicate_file_in_another_drop_and_modified_drop(landing: Landing) -> None:
    landing.write("crm", "marketing_spend", "2026-10-20", "spend.csv", SPEND)
    landing.write("crm", "marketing_spend", "2026-10-21", "copy.csv", SPEND)
    result = landing.ingest()
    original, copy = result.files
    assert original.status == "loaded"
    # docs/landing-zone.md#drops-and-incremental-loads: the copy is a no-op, recorded as a duplicate with no
    # rows counted (its 2 records were counted when the original loaded) and nothing in audit.quarantine.
    assert (copy.status, copy.rows_read, copy.rows_loaded, copy.rows_quarantined) == ("duplicate", 0, 0, 0)
    assert copy.message == f"duplicate of {original.file_path} (same sha256): not loaded, a no-op"
    assert landing.quarantine_lines("copy.csv") == []
    # Rewriting a landed file: quarantined whole, once.
    landing.write("crm", "marketing_spend", "2026-10-20", "spend.csv", SPEND + "2026-10-03,ads,30,USD\n")
    rerun = landing.ingest()
    assert [f.status for f in rerun.files] == ["quarantined_file", "skipped_already_loaded"]
    assert rerun.files[0].rows_read == 3 and "immutable" in rerun.files[0].message
    assert [f.status for f in landing.ingest().files] == ["skipped_already_loaded"] * 2
    assert landing.rows("select count(*) from raw.crm__marketing_spend") == [(2,)]


def test_layout_problems_as_of_and_progress(landing: Landing) -> None:
    landing.write("crm", "marketing_spend", "2026-10-20", "a.csv", SPEND)
    landing.write("crm", "marketing_spend", "2026-10-22", "b.csv", SPEND.replace("ads", "tv"))
    landing.write("crm", "leads", "2026-10-20", "leads.csv", SPEND)  # unknown entity
    landing.write("crm", "deals", "2026-13-40", "deals.csv", SPEND)  # bad partition
    landing.write("crm", "deals", "2026-10-20", "deals.xlsx", b"xx")  # unknown extension
    (landing.raw / "_manifest.json").write_text("{}")  # ignored: landing-zone bookkeeping
    (landing.raw / "notes.txt").write_text("hi")  # not in the layout
    assert newest_load_date(landing.raw) == date(2026, 10, 22)
    messages: list[str] = []
    result = landing.ingest(as_of=date(2026, 10, 21), progress=messages.append)
    by_path = {f.file_path: f for f in result.files}
    assert "crm/marketing_spend/load_date=2026-10-22/b.csv" not in by_path  # after as_of
    assert by_path["crm/marketing_spend/load_date=2026-10-20/a.csv"].status == "loaded"
    problems = {p: f.message for p, f in by_path.items() if f.status == "quarantined_file"}
    assert problems == {
        "crm/leads/load_date=2026-10-20/leads.csv": "unknown entity crm/leads",
        "crm/deals/load_date=2026-13-40/deals.csv": "bad partition folder 'load_date=2026-13-40' "
        "(expected load_date=YYYY-MM-DD)",
        "crm/deals/load_date=2026-10-20/deals.xlsx": "unknown file extension '.xlsx' "
        "(expected .csv, .jsonl, .parquet, .csv.gz or .jsonl.gz)",
        "notes.txt": "not in the <source>/<entity>/load_date=YYYY-MM-DD/<file> layout",
    }
    assert len(messages) == len(result.files) == 5
    assert "a.csv: 2 loaded, 0 quarantined" in messages[-1] or any("a.csv: 2 loaded" in m for m in messages)
    assert_balanced(result)
    later = landing.ingest()  # no as_of: picks up the 2026-10-22 drop only
    assert [f.file_path for f in later.files if f.status == "loaded"] == [
        "crm/marketing_spend/load_date=2026-10-22/b.csv"
    ]
    assert "2 loaded" in later.summary


def test_a_copy_of_a_file_quarantined_whole_is_a_duplicate_unless_its_place_was_the_fault(
    landing: Landing,
) -> None:
    no_amount = "spend_date,channel,currency\n2026-10-01,ads,USD\n"  # a required column is missing
    landing.write("crm", "marketing_spend", "2026-10-20", "spend.csv", no_amount)
    landing.write("crm", "marketing_spend", "2026-10-21", "spend.csv", no_amount)  # re-sent copy
    landing.write("crm", "leads", "2026-10-20", "spend.csv", SPEND)  # wrong folder: unknown entity
    landing.write("crm", "marketing_spend", "2026-10-22", "spend.csv", SPEND)  # the same bytes, right place
    files = {f.file_path: f for f in landing.ingest().files}
    first = files["crm/marketing_spend/load_date=2026-10-20/spend.csv"]
    copy = files["crm/marketing_spend/load_date=2026-10-21/spend.csv"]
    assert first.status == "quarantined_file"
    # docs/landing-zone.md#drops-and-incremental-loads: the copy would be refused for the same reason: a
    # no-op, with no rows and no quarantine row.
    assert (copy.status, copy.rows_read, copy.rows_quarantined) == ("duplicate", 0, 0)
    assert copy.message == (
        "duplicate of crm/marketing_spend/load_date=2026-10-20/spend.csv (same sha256), quarantined whole "
        "for the same reason: a no-op"
    )
    assert landing.rows("select file_path from audit.quarantine order by 1") == [
        ("crm/leads/load_date=2026-10-20/spend.csv",),
        (first.file_path,),
    ]
    # The file refused for where it landed loads once it lands in the right place.
    right = files["crm/marketing_spend/load_date=2026-10-22/spend.csv"]
    assert (right.status, right.rows_loaded) == ("loaded", 2)

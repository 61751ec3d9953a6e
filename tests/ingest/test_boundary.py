"""The landing zone is a boundary (docs/landing-zone.md#boundary): symlinks, odd entries, re-sent files,
future drops."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import duckdb

from clm.config import load_settings
from clm.gate import quarantined_fractions
from clm.ingest import ingest, newest_load_date
from clm.ingest.warnings import ingest_warnings
from tests.ingest.conftest import Landing, only

SPEND = "spend_date,channel,amount,currency\n2026-10-01,ads,10,USD\n2026-10-02,seo,20,EUR\n"
SECRET = "spend_date,channel,amount,currency\n2026-10-01,planted-secret,10,USD\n"


def _real(path: Path) -> Path:
    # Messages name resolved paths (tmp_path itself may sit behind a symlink, as /tmp does on macOS).
    return Path(os.path.realpath(path))


def _link(landing: Landing, rel: str, target: Path | str) -> Path:
    path = landing.raw / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.symlink_to(target)
    return path


def test_symlink_to_a_file_outside_is_not_followed_and_is_reported(landing: Landing, tmp_path: Path) -> None:
    secret = tmp_path / "outside" / "secret.csv"
    secret.parent.mkdir()
    secret.write_text(SECRET)
    landing.write("crm", "marketing_spend", "2026-10-20", "spend.csv", SPEND)
    _link(landing, "crm/marketing_spend/load_date=2026-10-21/spend.csv", secret)
    result = landing.ingest()
    loaded, link = result.files
    assert (loaded.status, loaded.rows_loaded) == ("loaded", 2)
    rel = "crm/marketing_spend/load_date=2026-10-21/spend.csv"
    message = f"symlink to {_real(secret)}, outside the landing zone {_real(landing.raw)}: not followed"
    assert (link.file_path, link.status, link.sha256, link.rows_read, link.message) == (
        rel,
        "skipped_entry",
        None,
        0,
        message,
    )
    # Never read: nothing of it in raw, the manifest or the quarantine; it does not move the as-of either.
    assert landing.rows("select count(*) from raw.crm__marketing_spend where channel = 'planted-secret'") == [
        (0,)
    ]
    assert landing.rows("select count(*) from audit.load_manifest where file_path = ?", [rel]) == [(0,)]
    assert landing.rows("select count(*) from audit.quarantine") == [(0,)]
    assert newest_load_date(landing.raw) == date(2026, 10, 20)
    # Reported: a run warning (audit.run_warnings) and the summary; again on every run while it is there.
    assert (rel, message) in ingest_warnings(result, landing.raw)
    assert "1 entries skipped (see warnings)" in result.summary
    assert [f.status for f in landing.ingest().files] == ["skipped_already_loaded", "skipped_entry"]


def test_symlink_to_a_folder_outside_is_not_followed(landing: Landing, tmp_path: Path) -> None:
    outside = tmp_path / "outside" / "drop"
    outside.mkdir(parents=True)
    (outside / "deals.csv").write_text("deal_id,contact_id\nd1,c1\n")
    _link(landing, "crm/deals/load_date=2026-10-21", outside)
    f = only(landing.ingest())
    assert (f.file_path, f.status, f.message) == (
        "crm/deals/load_date=2026-10-21",
        "skipped_entry",
        f"symlink to {_real(outside)}, outside the landing zone {_real(landing.raw)}: not followed",
    )
    assert landing.rows("select count(*) from audit.load_manifest") == [(0,)]


def test_dangling_symlink_fifo_and_empty_folder_are_reported(landing: Landing, tmp_path: Path) -> None:
    _link(landing, "crm/deals/load_date=2026-10-21/gone.csv", tmp_path / "nowhere.csv")
    fifo = landing.raw / "crm" / "deals" / "load_date=2026-10-21" / "pipe.csv"
    os.mkfifo(fifo)  # opening it would block the run forever
    (landing.raw / "crm" / "contacts" / "load_date=2026-10-22").mkdir(parents=True)
    result = landing.ingest()
    assert [(f.file_path, f.status, f.message) for f in result.files] == [
        (
            "crm/contacts/load_date=2026-10-22",
            "skipped_entry",
            "empty folder: nothing landed here",
        ),
        (
            "crm/deals/load_date=2026-10-21/gone.csv",
            "skipped_entry",
            f"dangling symlink (to {tmp_path / 'nowhere.csv'}): skipped",
        ),
        (
            "crm/deals/load_date=2026-10-21/pipe.csv",
            "skipped_entry",
            "not a regular file (FIFO, socket or device): skipped",
        ),
    ]
    # Reported as they are, and a drop that holds nothing readable raises no "entity missing" warnings.
    assert ingest_warnings(result, landing.raw) == [(f.file_path, f.message) for f in result.files]


def test_symlinks_that_stay_inside_are_followed(landing: Landing) -> None:
    landing.write("crm", "marketing_spend", "2026-10-20", "spend.csv", SPEND)
    landing.write("crm", "marketing_spend", "2026-10-21", "more.csv", SPEND.replace("ads", "tv"))
    # A file link to another drop's file (same bytes: a re-sent file) and a folder link to a drop.
    _link(landing, "crm/marketing_spend/load_date=2026-10-22/again.csv", "../load_date=2026-10-20/spend.csv")
    _link(
        landing,
        "crm/marketing_spend/load_date=2026-10-23",
        landing.raw / "crm/marketing_spend/load_date=2026-10-21",
    )
    result = landing.ingest()
    assert [(f.file_path.split("/", 2)[2], f.status, f.rows_loaded) for f in result.files] == [
        ("load_date=2026-10-20/spend.csv", "loaded", 2),
        ("load_date=2026-10-21/more.csv", "loaded", 2),
        ("load_date=2026-10-22/again.csv", "duplicate", 0),
        ("load_date=2026-10-23/more.csv", "duplicate", 0),
    ]
    # A folder link back to its own parent is a loop: reported, not walked forever.
    _link(landing, "crm/marketing_spend/load_date=2026-10-20/loop", landing.raw / "crm")
    looped = [f for f in landing.ingest().files if f.status == "skipped_entry"]
    assert [(f.file_path, f.message) for f in looped] == [
        (
            "crm/marketing_spend/load_date=2026-10-20/loop",
            "symlink to a folder that contains it (a loop): not followed",
        )
    ]


def test_resent_file_is_a_noop_for_the_manifest_quarantine_and_gate(tmp_path: Path) -> None:
    raw, build = tmp_path / "raw", tmp_path / "build.duckdb"
    first = raw / "crm" / "marketing_spend" / "load_date=2026-10-20" / "spend.csv"
    resent = raw / "crm" / "marketing_spend" / "load_date=2026-10-27" / "spend_resent.csv"
    first.parent.mkdir(parents=True)
    first.write_text(SPEND)
    with duckdb.connect(str(build)) as con:
        ingest(con, raw, tmp_path / "quarantine", "run1")
        resent.parent.mkdir(parents=True)
        resent.write_text(SPEND)
        skipped, f = ingest(con, raw, tmp_path / "quarantine", "run2").files
        assert skipped.status == "skipped_already_loaded"
        assert (f.status, f.rows_read, f.rows_loaded, f.rows_quarantined) == ("duplicate", 0, 0, 0)
        assert con.execute(
            "select status, rows_read, rows_loaded, rows_quarantined, message from audit.load_manifest "
            "where run_id = 'run2'"
        ).fetchall() == [
            (
                "duplicate",
                0,
                0,
                0,
                "duplicate of crm/marketing_spend/load_date=2026-10-20/spend.csv (same sha256): "
                "not loaded, a no-op",
            )
        ]
        assert con.execute("select count(*) from audit.quarantine").fetchall() == [(0,)]
        assert con.execute("select count(*) from raw.crm__marketing_spend").fetchall() == [(2,)]
    # What the gate's quarantine.max_fraction reads for run2: nothing quarantined, so it cannot block.
    settings = load_settings({"CLM_DATA_DIR": str(tmp_path / "wh")})
    assert quarantined_fractions(build, "run2", settings) == [("crm/marketing_spend", 0, 0)]


def test_future_drop_is_quarantined_until_its_date_then_loaded(landing: Landing) -> None:
    landing.write("crm", "marketing_spend", "2026-12-05", "spend.csv", SPEND)
    landing.write(
        "crm",
        "nps_responses",
        "2099-01-01",
        "nps.csv",
        "response_id,contact_id,score,responded_at\nr1,c1,9,2098-12-31T10:00:00Z\n",
    )
    rel = "crm/nps_responses/load_date=2099-01-01/nps.csv"
    reason = "load date 2099-01-01 is after today's UTC date 2026-12-05: not loaded"
    # The run's as-of is the newest drop that is not in the future; the stray drop is still reported.
    first = landing.ingest(as_of=date(2026, 12, 5), today=date(2026, 12, 5))
    spend, future = first.files
    assert (spend.status, spend.rows_loaded) == ("loaded", 2)
    assert (future.file_path, future.status, future.rows_read, future.rows_quarantined, future.message) == (
        rel,
        "quarantined_future_drop",
        0,
        0,
        reason,
    )
    manifest = (
        "select run_id, status, rows_read, rows_loaded, rows_quarantined, message from audit.load_manifest"
    )
    assert landing.rows(manifest + " where file_path = ?", [rel]) == [
        ("run1", "quarantined_future_drop", 0, 0, 0, reason)
    ]
    assert landing.quarantine_lines("nps.csv") == [(None, reason)]
    assert landing.rows("select count(*) from raw.crm__nps_responses") == [(0,)]
    warnings = ingest_warnings(first, landing.raw)
    assert (rel, reason) in warnings
    assert not [w for w in warnings if "2099-01-01" in w[0] and w[0] != rel]  # no "entity missing" noise

    # Still in the future a day later: reported again, recorded once.
    later = landing.ingest(as_of=date(2026, 12, 5), today=date(2026, 12, 6))
    assert [(f.status, f.message) for f in later.files] == [
        ("skipped_already_loaded", ""),
        ("quarantined_future_drop", "load date 2099-01-01 is after today's UTC date 2026-12-06: not loaded"),
    ]
    assert landing.rows("select count(*) from audit.load_manifest where file_path = ?", [rel]) == [(1,)]

    # Its date has come: the same file loads.
    arrived = landing.ingest(as_of=date(2099, 1, 1), today=date(2099, 1, 1))
    assert [(f.status, f.rows_read, f.rows_loaded) for f in arrived.files] == [
        ("skipped_already_loaded", 0, 0),
        ("loaded", 1, 1),
    ]
    assert landing.rows(manifest + " where file_path = ? order by run_id", [rel]) == [
        ("run1", "quarantined_future_drop", 0, 0, 0, reason),
        ("run3", "loaded", 1, 1, 0, None),
    ]
    assert [f.status for f in landing.ingest(today=date(2099, 1, 2)).files] == ["skipped_already_loaded"] * 2

"""`clm generate --append-day` (issue 15): one more daily drop after the newest, the history untouched.

A zone of 400 customers over five months gets two appended days. The files written before stay
byte-identical, and the appended tree equals, file for file, a simulation cut two days after ``end``.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from clm.cli import main
from clm.generate import MANIFEST_NAME, AppendError, _simulate, append_day, generate
from clm.generate.catalog import DAY
from clm.generate.layout import DropLayout
from clm.generate.model import Context, contact_id, simulate_customer, stripe_code
from clm.generate.writers import DropWriters
from tests.generate.helpers import instant, records, sha256_tree

CUSTOMERS, SEED = 400, 9
START, END = date(2026, 5, 1), date(2026, 9, 30)
DAY1, DAY2 = "2026-10-01", "2026-10-02"


@pytest.fixture(scope="module")
def zone(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("append") / "raw"
    generate(root, CUSTOMERS, SEED, start=START, end=END)
    before = sha256_tree(root)
    first = append_day(root)
    after_first = sha256_tree(root)
    second = append_day(root)
    return {"root": root, "before": before, "after_first": after_first, "first": first, "second": second}


def _new_files(zone: dict, day: str) -> list[Path]:
    return sorted(zone["root"].glob(f"*/*/load_date={day}/*"))


def test_existing_files_are_untouched_and_each_append_adds_the_next_day(zone: dict) -> None:
    root: Path = zone["root"]
    now = sha256_tree(root)
    for earlier in (zone["before"], zone["after_first"]):
        assert {p: h for p, h in now.items() if p in earlier and p != MANIFEST_NAME} == {
            p: h for p, h in earlier.items() if p != MANIFEST_NAME
        }
    # One file per entity (9) per appended day, and nothing else is new.
    assert len(now) == len(zone["before"]) + 2 * 9
    assert zone["first"]["load_dates"][-1] == DAY1 and zone["first"]["appended_days"] == 1
    manifest = json.loads((root / MANIFEST_NAME).read_text())
    # Backfill at END - 14 days, 14 daily drops to END, then the two appended days.
    assert manifest["load_dates"][0] == "2026-09-16" and manifest["load_dates"][-2:] == [DAY1, DAY2]
    assert len(manifest["load_dates"]) == 17 and manifest["appended_days"] == 2
    listed = {f["path"]: f["rows"] for f in manifest["files"]}
    for path in _new_files(zone, DAY2):
        assert listed[path.relative_to(root).as_posix()] == sum(1 for _ in records(path))
    assert sum(manifest["rows"].values()) == sum(listed.values())


def test_the_appended_tree_is_a_simulation_cut_two_days_later(zone: dict, tmp_path: Path) -> None:
    """Every data file equals what one simulation with the horizon at DAY2 writes."""
    direct = tmp_path / "direct"
    layout = DropLayout(START, END, appended=2)
    writers = DropWriters(direct, layout)
    _simulate(Context(seed=SEED, customers=CUSTOMERS, layout=layout), writers, lambda _m: None)
    writers.close()
    appended = {p: h for p, h in sha256_tree(zone["root"]).items() if p != MANIFEST_NAME}
    assert sha256_tree(direct) == appended


def test_an_appended_drop_holds_late_updates_and_new_customers(zone: dict) -> None:
    root: Path = zone["root"]
    seen: dict[str, set[str]] = {"subscriptions": set(), "invoices": set(), "tickets": set()}
    keys = {"subscriptions": "id", "invoices": "id", "tickets": "ticket_id"}
    for day in zone["first"]["load_dates"][:-1]:
        for entity, ids in seen.items():
            for path in root.glob(f"*/{entity}/load_date={day}/*"):
                ids.update(rec[keys[entity]] for _, rec in records(path))
    late = 0
    for entity, ids in seen.items():
        for path in root.glob(f"*/{entity}/load_date={DAY1}/*"):
            late += sum(rec[keys[entity]] in ids for _, rec in records(path))
    assert late >= 1  # a record first landed earlier, landed again in its newer state
    contacts = [rec for path in root.glob(f"crm/contacts/load_date={DAY1}/*") for _, rec in records(path)]
    new = [c for c in contacts if int(c["contact_id"]) >= int(contact_id(CUSTOMERS))]
    # Indices >= CUSTOMERS sign up after END (the growth curve continued): on DAY1, in UTC.
    day1 = instant(DAY1)
    assert new and all(day1 <= instant(c["created_at"]) < day1 + DAY for c in new)


def test_one_customer_in_the_appended_drop_is_its_simulation_one_day_later(zone: dict) -> None:
    """Hand-checkable: the first subscription of the DAY1 drop is, key for key, the version that simulating
    its customer with the horizon at DAY1 places in the drop after END (drop 15: backfill + 14 + 1)."""
    path = zone["root"] / f"billing/subscriptions/load_date={DAY1}/subscriptions-{DAY1}.jsonl"
    landed = json.loads(path.read_text().splitlines()[0])
    code = landed["customer"].removeprefix("cus_")
    i = next(k for k in range(2 * CUSTOMERS) if stripe_code(k) == code)
    layout = DropLayout(START, END, appended=1)
    placed = [
        version
        for rec in simulate_customer(Context(SEED, CUSTOMERS, layout), i)
        if rec.entity == "subscriptions" and rec.state["id"] == landed["id"]
        for drop, version in layout.place(rec.sorted_versions())
        if drop == 15
    ]
    assert placed == [landed]


def test_append_refuses_what_it_cannot_continue(tmp_path: Path, zone: dict) -> None:
    with pytest.raises(AppendError, match="has no _clm_generate.json"):
        append_day(tmp_path / "nothing")
    assert not (tmp_path / "nothing").exists()
    newer = tmp_path / "newer"
    generate(newer, 20, 1, start=START, end=END)
    manifest = json.loads((newer / MANIFEST_NAME).read_text())
    manifest["generator_version"] += 1
    (newer / MANIFEST_NAME).write_text(json.dumps(manifest))
    before = sha256_tree(newer)
    result = CliRunner().invoke(main, ["generate", "--append-day", "--out", str(newer)])
    assert result.exit_code == 2 and "newer clm generate" in result.output
    assert sha256_tree(newer) == before
    result = CliRunner().invoke(main, ["generate", "--append-day", "--out", str(newer), "--seed", "1"])
    assert result.exit_code == 2 and "takes its parameters from the manifest" in result.output

"""clm.context: the as-of date is resolved once, from the landed drops, and checked before any work."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from clm.context import UsageError, check_as_of_gap, check_target, landed_dates, resolve_as_of


def drop(raw: Path, entity: str, load_date: str, name: str = "part.csv") -> None:
    folder = raw / entity / f"load_date={load_date}"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text("id\n1\n")


@pytest.fixture
def raw(tmp_path: Path) -> Path:
    root = tmp_path / "raw"
    drop(root, "crm/contacts", "2024-03-01")
    drop(root, "billing/invoices", "2024-03-05")
    drop(root, "support/tickets", "2024-03-03")
    return root


TODAY = date(2024, 6, 1)


def test_default_is_the_newest_drop(raw: Path) -> None:
    assert landed_dates(raw, TODAY) == (date(2024, 3, 1), date(2024, 3, 5))
    assert resolve_as_of(raw, None, TODAY) == date(2024, 3, 5)


def test_requested_dates_inside_the_landed_span_are_kept(raw: Path) -> None:
    assert resolve_as_of(raw, date(2024, 3, 1), TODAY) == date(2024, 3, 1)
    assert resolve_as_of(raw, date(2024, 3, 2), TODAY) == date(2024, 3, 2)  # a day with no drop is fine


@pytest.mark.parametrize(
    ("requested", "says"),
    [
        (date(1999, 1, 1), "--as-of 1999-01-01 is before the oldest drop landed (2024-03-01)"),
        (date(2024, 3, 6), "--as-of 2024-03-06 is after the newest drop landed (2024-03-05)"),
    ],
)
def test_dates_outside_the_landed_span_are_usage_errors(raw: Path, requested: date, says: str) -> None:
    with pytest.raises(UsageError, match=says.replace("(", r"\(").replace(")", r"\)")):
        resolve_as_of(raw, requested, TODAY)


def test_a_drop_dated_after_today_never_moves_the_default(raw: Path) -> None:
    drop(raw, "crm/nps_responses", "2099-01-01")
    assert resolve_as_of(raw, None, TODAY) == date(2024, 3, 5)
    with pytest.raises(UsageError, match="after the newest drop"):
        resolve_as_of(raw, date(2099, 1, 1), TODAY)


def test_malformed_folders_are_not_drops(raw: Path) -> None:
    (raw / "crm" / "contacts" / "load_date=2024-13-40").mkdir(parents=True)
    (raw / "crm" / "contacts" / "load_date=2024-13-40" / "x.csv").write_text("id\n")
    assert landed_dates(raw, TODAY) == (date(2024, 3, 1), date(2024, 3, 5))


def test_an_empty_or_missing_landing_zone_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="does not exist"):
        resolve_as_of(tmp_path / "nowhere", None, TODAY)
    (tmp_path / "empty").mkdir()
    with pytest.raises(UsageError, match="holds no drops"):
        resolve_as_of(tmp_path / "empty", None, TODAY)


def test_unknown_target_is_a_usage_error() -> None:
    assert check_target("postgres") == "postgres"
    with pytest.raises(UsageError, match="unknown target 'oracle'"):
        check_target("oracle")


def test_a_default_as_of_more_than_the_gap_past_the_last_publish_is_refused() -> None:
    # 2024-03-01 + 45 days = 2024-04-15: allowed; one day more is not (CLM_MAX_AS_OF_GAP_DAYS=45)
    check_as_of_gap(date(2024, 4, 15), None, date(2024, 3, 1), 45)
    with pytest.raises(UsageError, match=r"is 46 days after the last published as-of \(2024-03-01\)"):
        check_as_of_gap(date(2024, 4, 16), None, date(2024, 3, 1), 45)


def test_an_explicit_as_of_or_a_first_run_is_never_held_back_by_the_gap() -> None:
    check_as_of_gap(date(2099, 1, 1), date(2099, 1, 1), date(2024, 3, 1), 45)  # asked for by name
    check_as_of_gap(date(2099, 1, 1), None, None, 45)  # nothing published yet

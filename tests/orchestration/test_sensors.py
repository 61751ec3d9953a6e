"""The new-drops sensor requests a run only when the set of landed files changes."""

from __future__ import annotations

from pathlib import Path

import dagster as dg


def _evaluate(defs, raw: Path, cursor: str | None):
    sensor = defs.resolve_sensor_def("new_drops_sensor")
    context = dg.build_sensor_context(cursor=cursor, resources={"clm": _clm(raw)}, definitions=defs)
    return sensor.evaluate_tick(context)


def _clm(raw: Path):
    from orchestration.resources import ClmResource

    return ClmResource(raw_dir=str(raw))


def _land(raw: Path, rel: str, text: str) -> None:
    path = raw / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_sensor_requests_runs_only_for_new_files(defs, tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    empty = _evaluate(defs, raw, None)
    assert empty.run_requests == [] and empty.skip_message

    _land(raw, "crm/deals/load_date=2024-03-01/deals.csv", "deal_id\n")
    first = _evaluate(defs, raw, None)
    assert len(first.run_requests) == 1

    unchanged = _evaluate(defs, raw, first.cursor)
    assert unchanged.run_requests == []

    _land(raw, "crm/deals/load_date=2024-03-02/deals.csv", "deal_id\n")
    second = _evaluate(defs, raw, first.cursor)
    assert len(second.run_requests) == 1
    assert second.run_requests[0].run_key != first.run_requests[0].run_key

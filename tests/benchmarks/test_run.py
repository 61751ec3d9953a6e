"""The pure parts of the benchmark (benchmarks/run.py, benchmarks/floor.py): step stats into rows, dbt node
time per layer, the ratios, the README table's replacement in place. No clm run: numbers are given."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks.floor import reader_sql, table_name
from benchmarks.run import (
    README_END,
    README_START,
    Measured,
    Step,
    layer_seconds,
    parse_sizes,
    ratios,
    reuse_zone,
    run_status,
    step_rows,
    upsert_readme_row,
)


def test_step_rows_add_startup_and_wrap_up_and_take_each_steps_peak():
    # Process started at t=100, ended at t=130; steps 110-120 (ingest) and 120.5-128 (dbt build).
    steps = [Step("clm_dbt_models", 120.5, 128.0), Step("raw_extracts", 110.0, 120.0)]
    samples = [(105.0, 50.0), (112.0, 300.0), (119.0, 200.0), (125.0, 900.0), (129.0, 80.0)]
    rows = step_rows(steps, samples, started=100.0, ended=130.0, prefix="full run")
    got = [(r.name, round(r.seconds, 6), r.peak_mib) for r in rows]
    assert got == [
        ("full run: startup (process start to first step)", 10.0, 50.0),  # 110 - 100; sample at 105
        ("full run: ingest", 10.0, 300.0),  # 120 - 110; samples 112 and 119
        ("full run: dbt build", 7.5, 900.0),  # 128 - 120.5; sample at 125
        ("full run: wrap-up (last step end to exit)", 2.0, 80.0),  # 130 - 128; sample at 129
    ]


def test_step_rows_without_steps_is_empty():
    assert step_rows([], [(1.0, 1.0)], 0.0, 2.0, "rerun") == []


def test_layer_seconds_groups_models_by_folder_and_clv_apart():
    fqns = {
        "model.clm.stg_a": ["clm", "staging", "billing", "stg_a"],
        "model.clm.int_b": ["clm", "intermediate", "revenue", "int_b"],
        "model.clm.int_clv": ["clm", "intermediate", "clv", "int_clv"],
        "model.clm.fct_clv": ["clm", "marts", "clv", "fct_clv"],
        "model.clm.dim_c": ["clm", "marts", "core", "dim_c"],
    }
    results = [
        {"unique_id": "model.clm.stg_a", "execution_time": 1.5},
        {"unique_id": "model.clm.int_b", "execution_time": 2.0},
        {"unique_id": "model.clm.int_clv", "execution_time": 0.25},
        {"unique_id": "model.clm.fct_clv", "execution_time": 0.5},
        {"unique_id": "model.clm.dim_c", "execution_time": 3.0},
        {"unique_id": "seed.clm.fx_rates", "execution_time": 0.4},
        {"unique_id": "test.clm.not_null_x", "execution_time": 0.1},
        {"unique_id": "test.clm.unique_x", "execution_time": 0.2},
        {"unique_id": "operation.clm.clm-on-run-start-0", "execution_time": 0.05},
    ]
    # clv = 0.25 + 0.5; data tests = 0.1 + 0.2; layers with no time are left out
    assert layer_seconds(results, fqns) == pytest.approx(
        {
            "staging": 1.5,
            "intermediate": 2.0,
            "marts": 3.0,
            "clv": 0.75,
            "seeds": 0.4,
            "data tests": 0.3,
            "hooks": 0.05,
        }
    )


def _m(seconds: float, peak: float, code: int = 0) -> Measured:
    return Measured(seconds, peak, code)


def test_ratios_on_given_numbers():
    full, floor, rerun, day, pandas = _m(200, 2000), _m(8, 250), _m(1, 100), _m(50, 1500), _m(40, 2500)
    r = ratios(full, floor, rerun, day, pandas)
    assert r.clm_floor_time == 25.0  # 200 / 8
    assert r.clm_floor_peak == 8.0  # 2000 / 250
    assert r.rerun_full == 0.005  # 1 / 200
    assert r.one_day_full == 0.25  # 50 / 200
    assert r.clm_pandas_time == 5.0  # 200 / 40
    assert r.clm_pandas_peak == 0.8  # 2000 / 2500


def test_ratios_leave_out_parts_that_failed_or_did_not_run():
    capped = Measured(30, 9000, -9, capped=True)
    r = ratios(_m(200, 2000), _m(8, 250, code=1), None, None, capped)
    assert (r.clm_floor_time, r.rerun_full, r.one_day_full, r.clm_pandas_time) == (None, None, None, None)


README = """# x

## Benchmarks

Text.

## License

Apache.
"""


def test_readme_table_is_created_then_replaced_in_place_per_size():
    once = upsert_readme_row(README, 10_000, ["a"] * 10)
    assert once.index(README_START) < once.index(README_END) < once.index("## License")
    twice = upsert_readme_row(once, 1_000_000, ["b"] * 10)
    thrice = upsert_readme_row(twice, 10_000, ["c"] * 10)
    table = thrice.split(README_START)[1].split(README_END)[0]
    rows = [line for line in table.splitlines() if line.startswith("| 1")]
    # one row per size, smallest first; the 10,000 row replaced, the 1,000,000 row kept
    assert rows == [
        "| 10,000 | " + " | ".join(["c"] * 10) + " |",
        "| 1,000,000 | " + " | ".join(["b"] * 10) + " |",
    ]
    assert thrice.count(README_START) == 1 and thrice.count("## Performance") == 1
    assert thrice.endswith("## License\n\nApache.\n")


def test_readme_markers_in_an_existing_section_stay_there():
    text = README.replace("Text.\n", f"Text.\n\n{README_START}\n{README_END}\n")
    out = upsert_readme_row(text, 100_000, ["x"] * 10)
    assert "## Performance" not in out
    assert out.index("## Benchmarks") < out.index("| 100,000 |") < out.index("## License")


def test_run_status_reads_the_id_and_the_final_status():
    output = (
        "clm run 7b2542ed: as of 2026-10-31, target duckdb; full log: x.log\n"
        "clm run 7b2542ed: PUBLISHED (as of 2026-10-31)\n  ingested 135 new file(s)\n"
    )
    assert run_status(output) == ("7b2542ed", "PUBLISHED")
    assert run_status("clm run 0a1b2c3d: UNCHANGED (as of 2026-10-31): nothing new") == (
        "0a1b2c3d",
        "UNCHANGED",
    )
    assert run_status("Traceback") == (None, None)


def test_parse_sizes():
    assert parse_sizes("10000,100000") == [10_000, 100_000]
    assert parse_sizes("10k, 1M") == [10_000, 1_000_000]


def test_reuse_zone_removes_the_appended_day_and_restores_the_metadata(tmp_path: Path):
    raw = tmp_path / "raw"
    day1 = raw / "crm" / "deals" / "load_date=2026-10-31"
    day1.mkdir(parents=True)
    (day1 / "deals-2026-10-31.csv").write_text("id\n1\n")
    (raw / "_clm_generate.json").write_text('{"end": "2026-10-31"}')
    files = {"_clm_generate.json": 21, "crm/deals/load_date=2026-10-31/deals-2026-10-31.csv": 5}
    stamp = tmp_path / "zone.json"
    stamp.write_text(
        json.dumps({"customers": 10, "seed": 1, "metadata": '{"end": "2026-10-31"}', "files": files})
    )
    # what an appended day leaves behind
    day2 = raw / "crm" / "deals" / "load_date=2026-11-01"
    day2.mkdir()
    (day2 / "deals-2026-11-01.csv").write_text("id\n2\n")
    (raw / "_clm_generate.json").write_text('{"end": "2026-11-01"}')

    assert reuse_zone(raw, stamp, 10, 2) is None  # another seed
    assert reuse_zone(raw, stamp, 10, 1) is not None
    assert not day2.exists()
    assert (raw / "_clm_generate.json").read_text() == '{"end": "2026-10-31"}'


def test_floor_reads_each_landing_format_and_names_tables_by_place(tmp_path: Path):
    assert reader_sql(Path("a/b.csv.gz")) == "read_csv('a/b.csv.gz')"
    assert reader_sql(Path("a/b.jsonl")) == "read_json('a/b.jsonl', format = 'newline_delimited')"
    assert reader_sql(Path("a/b.parquet")) == "read_parquet('a/b.parquet')"
    assert reader_sql(Path("a/b.txt")) is None
    path = tmp_path / "billing" / "invoices" / "load_date=2026-10-17" / "invoices-2026-10-17.jsonl"
    assert table_name(tmp_path, path) == "billing_invoices_2026_10_17_invoices_2026_10_17_jsonl"

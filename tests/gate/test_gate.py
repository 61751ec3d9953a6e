"""The quality gate on hand-built build databases; every expected count is computed by hand."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from clm import gate as gate_module
from clm.config import load_settings
from clm.gate import QUARANTINE_CHECK, data_tests_var, run_gate
from expectations.checkpoint import unknown_config_checks
from expectations.config import load_config
from expectations.suites import SUITES

from .builders import GOOD_CUSTOMERS, HASH_A, build_db


def gate(tmp_path: Path, db: Path, run_id: str = "run-1", config: Path | None = None):
    return run_gate(db, tmp_path / "docs", run_id, config, settings=load_settings({}))


def failures_by_check(result) -> dict[str, int | None]:
    return {f.check: f.unexpected_count for f in result.failures}


def test_default_config_names_only_defined_checks():
    assert unknown_config_checks(load_config()) == set()


def test_valid_build_passes_and_reports_missing_tables(tmp_path: Path):
    result = gate(tmp_path, build_db(tmp_path / "build.duckdb"))

    assert result.passed, result.message
    assert result.tables_validated == ("marts.dim_customers",)
    # Every staged table is absent here: reported as warnings, not crashed on.
    assert len(result.tables_missing) == len(SUITES) - 1
    assert "staging.stg_crm__contacts" in {w.table for w in result.warnings}
    assert result.data_docs_index == tmp_path / "docs" / "index.html"
    assert result.data_docs_index.exists()


def set_values(db: Path, column: str, value: object, customer_ids: tuple[str, ...]) -> Path:
    """Set ``column`` of the builder's rows ``customer_ids`` (its inserts leave most columns at defaults)."""
    with duckdb.connect(str(db)) as con:
        con.execute(
            f"update marts.dim_customers set {column} = ? where list_contains(?, customer_id)",
            [value, list(customer_ids)],
        )
    return db


def test_negative_mrr_names_check_table_and_bad_rows(tmp_path: Path):
    # Was a duplicate customer_id (dim_customers.customer_id.unique): dbt's test
    # unique_dim_customers_customer_id proves the grain now (never relaxed; expectations/proven_by_dbt.py).
    customers = [*GOOD_CUSTOMERS, ("c4", HASH_A, "US", "smb", "ads", "2024-01-01 00:00:00", None)]
    db = set_values(build_db(tmp_path / "build.duckdb", customers), "current_mrr", -10, ("c1", "c4"))
    result = gate(tmp_path, db)

    assert not result.passed
    # c1 and c4 have current_mrr -10.
    assert failures_by_check(result) == {"dim_customers.current_mrr.non_negative": 2}
    failure = result.failures[0]
    assert failure.table == "marts.dim_customers"
    assert failure.message == (
        "dim_customers.current_mrr.non_negative failed on marts.dim_customers: 2 bad rows of 4"
    )
    assert "dim_customers.current_mrr.non_negative" in result.message


def test_dim_customers_rules_count_bad_rows(tmp_path: Path):
    customers = [
        *GOOD_CUSTOMERS,
        ("c4", "ABC", "US", "smb", "ads", "2024-01-01 00:00:00", None),  # hash not 64 lower hex
        ("c5", "A" * 64, "US", "smb", "ads", "2024-01-01 00:00:00", None),  # upper-case hex
        ("c6", HASH_A, "US", "whale", "ads", "2024-01-01 00:00:00", None),  # segment not in set
        ("c7", HASH_A, "US", None, "ads", "2024-05-01 00:00:00", "2024-04-30 23:59:59"),  # paid before seen
        (None, HASH_A, "US", "smb", "ads", "2024-01-01 00:00:00", None),  # no id
    ]
    db = set_values(build_db(tmp_path / "build.duckdb", customers), "cac", -1, ("c2",))
    # c3 churned voluntarily; c2 has a churn type but is a lead
    set_values(set_values(db, "current_stage", "churned", ("c3",)), "churn_type", "voluntary", ("c2", "c3"))
    result = gate(tmp_path, db)

    # The segment, first_paid_at and customer_id rows are dbt's to catch (expectations/proven_by_dbt.py:
    # accepted_values_dim_customers_segment__smb__mid_market__enterprise,
    # assert_dim_customers_first_paid_not_before_first_seen and not_null_dim_customers_customer_id with the
    # contract's not_null constraint), so the gate counts only its own rules: c4 and c5 hashes, c2's cac and
    # c2's churn type.
    assert failures_by_check(result) == {
        "dim_customers.email_hash.sha256_hex": 2,
        "dim_customers.cac.non_negative": 1,
        "dim_customers.churn_type.only_when_churned": 1,
    }


def test_empty_dim_customers_fails_row_count(tmp_path: Path):
    result = gate(tmp_path, build_db(tmp_path / "build.duckdb", customers=[]))

    assert [f.check for f in result.failures] == ["dim_customers.row_count.at_least_1"]
    assert result.failures[0].unexpected_count is None


def test_mostly_comes_from_config(tmp_path: Path, write_config):
    # Was dim_customers.segment.in_set, which dbt's accepted_values test proves now (proven_by_dbt.py).
    db = set_values(build_db(tmp_path / "build.duckdb"), "lifetime_revenue", -1, ("c1",))
    # 1 negative lifetime_revenue of 3 rows: 2/3 pass.
    assert not gate(tmp_path, db).passed
    check = "dim_customers.lifetime_revenue.non_negative"
    assert gate(tmp_path, db, config=write_config(mostly={check: 0.66})).passed
    strict = gate(tmp_path, db, config=write_config(mostly={check: 0.67}))
    assert failures_by_check(strict) == {check: 1}


def test_sql_check_applies_mostly(tmp_path: Path, write_config):
    customers = [*GOOD_CUSTOMERS, ("c4", "ABC", "US", "smb", "ads", "2024-01-01 00:00:00", None)]
    db = build_db(tmp_path / "build.duckdb", customers)
    assert failures_by_check(gate(tmp_path, db)) == {"dim_customers.email_hash.sha256_hex": 1}
    tolerant = write_config(mostly={"dim_customers.email_hash.sha256_hex": 0.75})
    assert gate(tmp_path, db, config=tolerant).passed


def test_warn_only_checks_block_only_when_warnings_block(tmp_path: Path, write_config):
    # Was dim_customers.segment.in_set, which dbt's accepted_values test proves now (proven_by_dbt.py).
    db = set_values(build_db(tmp_path / "build.duckdb"), "lifetime_revenue", -1, ("c1",))
    check = "dim_customers.lifetime_revenue.non_negative"

    warned = gate(tmp_path, db, config=write_config(warn_only=[check]))
    assert warned.passed
    assert {w.check: w.unexpected_count for w in warned.warnings}[check] == 1

    blocked = gate(tmp_path, db, config=write_config(warn_only=[check], warnings_block=True))
    assert not blocked.passed
    assert check in failures_by_check(blocked)


def test_missing_table_can_be_configured_to_block(tmp_path: Path, write_config):
    result = gate(tmp_path, build_db(tmp_path / "build.duckdb"), config=write_config(missing_table="fail"))
    assert not result.passed
    assert "stg_billing__invoices.table_exists" in failures_by_check(result)


def test_missing_column_is_reported_not_crashed_on(tmp_path: Path):
    db = build_db(tmp_path / "build.duckdb")
    with duckdb.connect(str(db)) as con:
        con.execute("alter table marts.dim_customers drop column email_hash")

    result = gate(tmp_path, db)

    assert not result.passed
    assert failures_by_check(result) == {"dim_customers.email_hash.sha256_hex": None}
    assert "has no column email_hash" in result.failures[0].message


def test_staged_table_checks(tmp_path: Path):
    db = build_db(tmp_path / "build.duckdb")
    with duckdb.connect(str(db)) as con:
        con.execute("create schema staging")
        con.execute(
            """
            create view staging.stg_crm__deals as select * from (values
                ('d1', 'won', 100.00::decimal(18, 2), 'USD'),
                ('d2', 'open', -5.00, 'USD'),
                ('d2', 'stalled', 10.00, 'XXX'),
                ('d4', 'lost', null, 'EUR')
            ) t(deal_id, deal_stage, amount, currency)
            """
        )
    result = gate(tmp_path, db)

    # d2 twice and deal stage 'stalled' are dbt's (unique_stg_crm__deals_deal_id,
    # accepted_values_stg_crm__deals_deal_stage__open__won__lost; expectations/proven_by_dbt.py).
    assert failures_by_check(result) == {
        "stg_crm__deals.amount.non_negative": 1,
        "stg_crm__deals.currency.currency": 1,
    }
    assert {f.table for f in result.failures} == {"staging.stg_crm__deals"}


@pytest.mark.parametrize(
    ("quarantined", "passed"),
    [(5, True), (6, False)],  # 5 of 10 is at the 50% default limit; 6 of 10 is above it
)
def test_quarantined_fraction_of_the_run_blocks_above_the_limit(
    tmp_path: Path, quarantined: int, passed: bool
):
    manifest = [
        ("run-1", "billing", "invoices", 4, quarantined - 1),
        ("run-1", "billing", "invoices", 6, 1),
        ("run-0", "crm", "contacts", 10, 10),  # another run: ignored
    ]
    result = gate(tmp_path, build_db(tmp_path / "build.duckdb", manifest=manifest))

    assert result.passed is passed
    if not passed:
        assert failures_by_check(result) == {QUARANTINE_CHECK: 6}
        assert result.failures[0].table == "billing/invoices"
        assert "6 of 10 rows read were quarantined" in result.failures[0].message


def test_quarantine_limit_per_entity(tmp_path: Path, write_config):
    manifest = [("run-1", "crm", "deals", 100, 3), ("run-1", "crm", "contacts", 100, 3)]
    db = build_db(tmp_path / "build.duckdb", manifest=manifest)
    config = write_config(quarantine={"default_max_fraction": 0.5, "max_fraction": {"crm/deals": 0.02}})

    result = gate(tmp_path, db, config=config)

    assert [(f.check, f.table, f.unexpected_count) for f in result.failures] == [
        (QUARANTINE_CHECK, "crm/deals", 3)
    ]


def test_unknown_check_in_config_is_an_error(tmp_path: Path, write_config):
    with pytest.raises(ValueError, match="dim_customers.custmer_id.unique"):
        gate(
            tmp_path,
            build_db(tmp_path / "build.duckdb"),
            config=write_config(mostly={"dim_customers.custmer_id.unique": 0.9}),
        )


def test_gate_validates_with_the_runs_duckdb_limits(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    seen = []
    checkpoint = gate_module.run_checkpoint

    def spy(*args, warehouse, **kwargs):
        seen.append(dict(warehouse.connect_args))
        return checkpoint(*args, warehouse=warehouse, **kwargs)

    monkeypatch.setattr(gate_module, "run_checkpoint", spy)
    settings = load_settings({"CLM_DUCKDB_THREADS": "1", "CLM_DUCKDB_MEMORY_LIMIT": "512MB"})
    result = run_gate(build_db(tmp_path / "build.duckdb"), tmp_path / "docs", "run-1", settings=settings)

    assert result.passed
    assert seen == [{"read_only": True, "config": {"memory_limit": "512MB", "threads": "1"}}]


def test_gate_releases_the_build_file(tmp_path: Path):
    db = build_db(tmp_path / "build.duckdb")
    gate(tmp_path, db)
    # A read-write open in this process fails while any read-only connection to the file is alive.
    with duckdb.connect(str(db)) as con:
        con.execute("insert into marts.dim_customers (customer_id) values ('c9')")


def test_dbt_tests_settings_are_validated_and_merged_over_dbt_project(write_config):
    """gate.yml's dbt_tests (dbt data test thresholds) go over var clm_data_tests of dbt_project.yml."""

    path = write_config(
        dbt_tests={
            "default": {"error_if": ">0.5%"},
            "assert_kpi_months_contiguous": {"severity": "WARN"},
        }
    )
    config = load_config(path)
    merged = data_tests_var(config)
    # dbt_project.yml ships default {severity: error, warn_if: ">0", error_if: ">1%"} and
    # assert_kpi_months_contiguous {error_if: ">0"}; the gate config's keys win one by one.
    assert merged["default"] == {"severity": "error", "warn_if": ">0", "error_if": ">0.5%"}
    assert merged["assert_kpi_months_contiguous"] == {"error_if": ">0", "severity": "warn"}
    assert load_config().dbt_tests == {}  # the shipped gate.yml changes nothing


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"severity": "fatal"}, "gate config: dbt_tests.x.severity must be warn or error, got 'fatal'"),
        (
            {"error_if": "above 3"},
            "gate config: dbt_tests.x.error_if must compare with a count or a percentage, "
            "e.g. '>0', '>=10' or '>1%', got 'above 3'",
        ),
        (
            {"where": "1=1"},
            "gate config: dbt_tests.x: unknown key 'where' (expected severity, warn_if, error_if)",
        ),
        ("warn", "gate config: dbt_tests.x must be a mapping of severity, warn_if, error_if"),
    ],
)
def test_bad_dbt_tests_settings_are_refused(write_config, settings, message):
    with pytest.raises(ValueError) as error:
        load_config(write_config(dbt_tests={"x": settings}))
    assert str(error.value) == message


def test_dbt_build_counts_words_what_a_build_did(tmp_path: Path) -> None:
    """The `dbt:` progress line of clm run, from a run_results.json written here: 2 models and 1 seed built
    (exposures and hooks are not nodes a user counts), 4 tests of which 1 warned."""
    import json

    from clm.gate import dbt_build_counts

    statuses = {
        "model.clm.a": "success",
        "model.clm.b": "success",
        "seed.clm.s": "success",
        "exposure.clm.dashboard": "success",
        "operation.clm.clm-on-run-end-0": "success",
        "test.clm.t1": "pass",
        "test.clm.t2": "pass",
        "test.clm.t3": "pass",
        "test.clm.t4": "warn",
    }
    path = tmp_path / "run_results.json"
    path.write_text(json.dumps({"results": [{"unique_id": u, "status": s} for u, s in statuses.items()]}))
    assert dbt_build_counts(path) == "2 models, 1 seed; 4 tests: 3 pass, 1 warn"
    assert dbt_build_counts(tmp_path / "missing.json") == "no run_results.json"

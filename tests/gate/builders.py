"""Small hand-built build databases for gate and publish tests (the real models are built by dbt)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import duckdb

HASH_A = "a" * 64
HASH_B = "b" * 64
HASH_C = "0123456789abcdef" * 4

DIM_CUSTOMERS_DDL = """
create table marts.dim_customers (
    customer_id varchar, email_hash varchar, country varchar, segment varchar,
    acquisition_channel varchar, first_seen_at timestamp, first_paid_at timestamp,
    current_mrr decimal(18, 2) default 0, lifetime_revenue decimal(18, 2) default 0, cac decimal(18, 2),
    current_stage varchar default 'lead', current_stage_since date default '2024-06-01',
    churn_type varchar, churn_reason varchar, is_at_risk boolean default false, at_risk_reasons varchar
)
"""
# The identity and profile columns the test rows give; the revenue and lifecycle columns keep their defaults
# (a lead that is not at risk and has not churned).
DIM_CUSTOMERS_COLUMNS = (
    "customer_id, email_hash, country, segment, acquisition_channel, first_seen_at, first_paid_at"
)

# Three valid customers: c3 never paid (first_paid_at null), which the pair check ignores.
GOOD_CUSTOMERS: list[tuple] = [
    ("c1", HASH_A, "US", "smb", "ads", "2024-01-01 00:00:00", "2024-02-01 00:00:00"),
    ("c2", HASH_B, "DE", "enterprise", "referral", "2024-01-05 00:00:00", "2024-01-05 00:00:00"),
    ("c3", HASH_C, "FR", "mid_market", "organic", "2024-03-01 00:00:00", None),
]


def build_db(path: Path, customers: Sequence[tuple] = GOOD_CUSTOMERS, manifest: Iterable[tuple] = ()) -> Path:
    """A build file with marts.dim_customers and audit.load_manifest rows (run_id, source, entity, read,
    quarantined)."""
    with duckdb.connect(str(path)) as con:
        con.execute("create schema if not exists marts")
        con.execute(DIM_CUSTOMERS_DDL)
        if customers:
            con.executemany(
                f"insert into marts.dim_customers ({DIM_CUSTOMERS_COLUMNS}) values (?, ?, ?, ?, ?, ?, ?)",
                list(customers),
            )
    return manifest_db(path, manifest)


def manifest_db(path: Path, manifest: Iterable[tuple] = ()) -> Path:
    """A build file with only audit.load_manifest, as with --target postgres (the marts are in Postgres)."""
    with duckdb.connect(str(path)) as con:
        con.execute("create schema if not exists audit")
        con.execute(
            """
            create table audit.load_manifest (
                run_id varchar, source varchar, entity varchar, load_date date, file_path varchar,
                sha256 varchar, rows_read bigint, rows_loaded bigint, rows_quarantined bigint,
                loaded_at timestamp
            )
            """
        )
        for run_id, source, entity, read, quarantined in manifest:
            con.execute(
                "insert into audit.load_manifest values (?, ?, ?, date '2024-06-01', ?, 'x', ?, ?, ?, now())",
                [run_id, source, entity, f"{source}/{entity}/f.csv", read, read - quarantined, quarantined],
            )
    return path

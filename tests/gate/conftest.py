from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from expectations.checkpoint import Warehouse, postgres_warehouse
from tests.postgres_server import admin_connection

from .builders import DIM_CUSTOMERS_COLUMNS, DIM_CUSTOMERS_DDL, GOOD_CUSTOMERS

PG_DATABASE = "test"  # the gate's Postgres tests work in fresh schemas inside this database
PLACEHOLDERS = ", ".join(["%s"] * len(DIM_CUSTOMERS_COLUMNS.split(",")))


@pytest.fixture
def write_config(tmp_path: Path):
    """Write a gate config (defaults plus overrides) and return its path."""

    def write(**overrides: object) -> Path:
        path = tmp_path / "gate.yml"
        path.write_text(yaml.safe_dump(overrides), encoding="utf-8")
        return path

    return write


# ---------------------------------------------------------------------------------------------- Postgres


@dataclass
class PgBuild:
    """Hand-made build schemas ``<prefix>staging`` and ``<prefix>marts`` in database `test`."""

    connection: object
    prefix: str  # gt_<random>_
    warehouse: Warehouse

    @property
    def application_name(self) -> str:
        return str(self.warehouse.connect_args["application_name"])

    def schema(self, logical: str) -> str:
        return self.warehouse.physical(logical)

    def execute(self, sql: str, params: Sequence | None = None) -> list[tuple]:
        with self.connection.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall() if cur.description else []

    def dim_customers(self, customers: Sequence[tuple] = GOOD_CUSTOMERS) -> PgBuild:
        """``<prefix>marts.dim_customers`` with the same DDL and rows as builders.build_db."""
        marts = self.schema("marts")
        self.execute(DIM_CUSTOMERS_DDL.replace("marts.", f"{marts}."))
        with self.connection.cursor() as cur:
            cur.executemany(
                f"insert into {marts}.dim_customers ({DIM_CUSTOMERS_COLUMNS}) values ({PLACEHOLDERS})",
                list(customers),
            )
        return self

    def sessions(self, wait_seconds: float = 5.0) -> int:
        """Open sessions of the gate (its application_name is unique to this test).

        A backend leaves pg_stat_activity a few milliseconds after its client closed the socket, so this
        waits up to ``wait_seconds`` for the count to reach 0; a session still pooled stays and is counted.
        """
        deadline = time.monotonic() + wait_seconds
        while True:
            rows = self.execute(
                "select count(*) from pg_stat_activity where application_name = %s", [self.application_name]
            )
            count = int(rows[0][0])
            if count == 0 or time.monotonic() > deadline:
                return count
            time.sleep(0.02)


@pytest.fixture
def pg_build() -> Iterator[PgBuild]:
    conn = admin_connection(PG_DATABASE)
    token = uuid.uuid4().hex[:10]
    prefix = f"gt_{token}_"
    warehouse = postgres_warehouse(
        prefix, database=PG_DATABASE, environ=os.environ | {"PGAPPNAME": f"clm-gate-test-{token}"}
    )
    build = PgBuild(conn, prefix, warehouse)
    for logical in ("staging", "marts"):
        build.execute(f"create schema {build.schema(logical)}")
    try:
        yield build
    finally:
        # A session the gate left open inside a transaction would hold locks: fail, don't hang.
        build.execute("set lock_timeout = '10s'")
        for (schema,) in build.execute(
            "select nspname from pg_namespace where starts_with(nspname, %s)", [prefix]
        ):
            build.execute(f'drop schema "{schema}" cascade')
        conn.close()

"""Mirroring DuckDB's raw schema into Postgres (clm.targets.postgres.copy_schema)."""

from __future__ import annotations

import duckdb
import pytest

from clm.targets.postgres import copy_schema, nul_rows
from tests.postgres_server import admin_connection, scratch_database

pytestmark = pytest.mark.postgres


def test_a_nul_byte_loaded_by_an_older_clm_no_longer_fails_the_mirror_and_is_reported() -> None:
    """Postgres text cannot hold 0x00 (COPY fails); before this fix one such value failed every later run."""
    duck = duckdb.connect()
    duck.execute("create schema raw")
    duck.execute("create table raw.t (id varchar, note varchar, n integer)")
    duck.execute("insert into raw.t values ('a', 'x' || chr(0) || 'y', 1), ('b', 'plain', 2), ('c', null, 3)")
    duck.execute("create table raw.u (id varchar)")
    duck.execute("insert into raw.u values ('z')")

    assert nul_rows(duck, "raw") == {"t": 1}
    with scratch_database("clm_mirror") as dbname:
        pg = admin_connection(dbname)
        pg.autocommit = False
        assert copy_schema(duck, pg, "raw") == {"t": 3, "u": 1}
        with pg.cursor() as cur:
            cur.execute("select id, note, n from raw.t order by id")
            assert cur.fetchall() == [("a", "xy", 1), ("b", "plain", 2), ("c", None, 3)]
        pg.close()

"""The default target: dbt builds in the DuckDB build file; BI reads a separate serving file that publish
replaces atomically (``clm.publish``)."""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from clm import publish as serving
from clm.config import show
from clm.targets import PUBLISHED_AS_OF_SQL, PUBLISHED_RUNS_SQL, Target
from clm.warehouse import connect, connect_build, duckdb_config

if TYPE_CHECKING:
    import pandas as pd


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


class DuckDBTarget(Target):
    name = "duckdb"

    def gate_warehouse(self):
        from expectations.checkpoint import duckdb_warehouse

        return duckdb_warehouse(self.settings.build_db, config=duckdb_config(self.settings))

    def read_clv_inputs(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        # pandas and the CLV package (1.2 s to import) only where the CLV step needs them, not for the
        # published runs that every `clm run` reads first
        from clm.clv import store

        with connect_build(self.settings, read_only=True) as con:
            return store.read_inputs_duckdb(con)

    def write_clv_results(self, frames: dict[str, pd.DataFrame]) -> None:
        from clm.clv import store

        with connect_build(self.settings) as con:
            store.write_duckdb(con, frames)

    def built_marts(self) -> list[str]:
        with connect_build(self.settings, read_only=True) as con:
            catalog = con.execute("select current_database()").fetchall()[0][0]
            return serving.relations(con, catalog, "marts")

    def marts_fingerprint(self, marts: Sequence[str]) -> str:
        digest = hashlib.sha256()
        with connect_build(self.settings, read_only=True) as con:
            for name in sorted(marts):
                # hash(clm_row) hashes the whole row (an alias no mart column has); bit_xor makes the
                # digest independent of row order
                count, rows = con.execute(
                    f"select count(*), coalesce(bit_xor(hash(clm_row)), 0) from marts.{_quote(name)} clm_row"
                ).fetchall()[0]
                digest.update(f"{name}\0{count}\0{rows}\n".encode())
        return digest.hexdigest()

    def publish(self, marts: Sequence[str], run_id: str, message: str) -> dict[str, int]:
        result = serving.publish(
            self.settings.build_db,
            self.settings.serving_db,
            self.settings,
            marts=marts,
            published_run=(run_id, message),
        )
        return result.tables

    def publish_audit(self) -> None:
        serving.publish_audit(self.settings.build_db, self.settings.serving_db, self.settings)

    def published_marts(self) -> list[tuple[str, int]]:
        if not self.settings.serving_db.exists():
            return []
        with connect(self.settings.serving_db, self.settings, read_only=True) as con:
            rows = con.execute(
                "select table_name, estimated_size from duckdb_tables() "
                "where schema_name = 'marts' order by 1"
            ).fetchall()
        return [(name, int(size)) for name, size in rows]

    def _published_audit(self, sql: str) -> list[tuple]:
        """``sql`` on the serving file's audit; no rows before the first publish."""
        if not self.settings.serving_db.exists():
            return []
        with connect(self.settings.serving_db, self.settings, read_only=True) as con:
            try:
                return con.execute(sql).fetchall()
            except duckdb.CatalogException:
                return []

    def published_runs(self) -> set[str]:
        return {run_id for (run_id,) in self._published_audit(PUBLISHED_RUNS_SQL)}

    def published_as_of(self) -> date | None:
        rows = self._published_audit(PUBLISHED_AS_OF_SQL)
        return rows[0][0] if rows else None

    def location(self) -> str:
        return str(self.settings.serving_db)  # also in audit.runs and asset metadata: never relative

    def how_to_read(self) -> str:
        # the duckdb-cli dependency: a 1.x client, as BI drivers are (the file is written for them)
        cli = Path(sys.executable).with_name("duckdb")
        return f"{show(cli)} -readonly {show(self.settings.serving_db)}"

    def clean_leftovers(self) -> list[str]:
        removed = []
        for path in serving.leftovers(self.settings.serving_db):
            path.unlink(missing_ok=True)
            removed.append(str(path))
        return removed

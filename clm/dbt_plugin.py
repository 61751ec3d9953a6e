"""dbt-duckdb plugin: registers ``clm_pii_hash(varchar)`` on every dbt connection and applies
``CLM_DUCKDB_THREADS`` (profiles.yml cannot leave a setting out when it is unset).

The key is read from the environment here, in Python, so it never appears in compiled SQL or dbt logs.
Enabled in profiles.yml (``plugins: [{module: clm.dbt_plugin}]``); the ``clm_pii_hash`` macro calls it.
"""

from __future__ import annotations

from dbt.adapters.duckdb.plugins import BasePlugin
from duckdb import DuckDBPyConnection

from clm.config import load_settings
from clm.pii import pii_hash_arrow


class Plugin(BasePlugin):
    def configure_connection(self, conn: DuckDBPyConnection) -> None:
        settings = load_settings()
        key = settings.pii_key
        if settings.duckdb_threads:
            conn.execute(f"set threads = {settings.duckdb_threads}")
        conn.create_function(
            "clm_pii_hash",
            lambda values: pii_hash_arrow(values, key),
            ["VARCHAR"],
            "VARCHAR",
            type="arrow",
            null_handling="special",
            side_effects=False,
        )

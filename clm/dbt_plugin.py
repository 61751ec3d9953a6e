"""dbt-duckdb plugin: registers ``clm_pii_hash(varchar)`` on every dbt connection.

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
        key = load_settings().pii_key
        conn.create_function(
            "clm_pii_hash",
            lambda values: pii_hash_arrow(values, key),
            ["VARCHAR"],
            "VARCHAR",
            type="arrow",
            null_handling="special",
            side_effects=False,
        )

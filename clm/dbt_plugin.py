"""dbt-duckdb plugin: gives every dbt connection and cursor the PII hash's key pads, and applies
``CLM_DUCKDB_THREADS`` (profiles.yml cannot leave a setting out when it is unset).

The pads are derived from ``CLM_PII_KEY`` here, in Python, and set as the session variables
``clm_pii_inner_pad`` / ``clm_pii_outer_pad``, which macro duckdb__clm_pii_hash reads with ``getvariable``:
the key never appears in compiled SQL or dbt logs, and the hash runs in DuckDB's own SHA-256. (A Python UDF
computing HMAC row by row took about 10 s of a 1M-customer build, holding the interpreter lock that dbt's
other thread needs.) Enabled in profiles.yml (``plugins: [{module: clm.dbt_plugin}]``).
"""

from __future__ import annotations

from dbt.adapters.duckdb.plugins import BasePlugin
from duckdb import DuckDBPyConnection

from clm.config import load_settings
from clm.pii import DUCKDB_PAD_VARIABLES, hmac_pads


class Plugin(BasePlugin):
    def _set_pads(self, conn: DuckDBPyConnection, pads: tuple[str, str]) -> None:
        # hex digits only: safe to inline
        for name, value in zip(DUCKDB_PAD_VARIABLES, pads, strict=True):
            conn.execute(f"set variable {name} = '{value}'")

    def configure_connection(self, conn: DuckDBPyConnection) -> None:
        # read when dbt opens its connection, as the environment may differ between runs of one process
        settings = load_settings()
        if settings.duckdb_threads:
            conn.execute(f"set threads = {settings.duckdb_threads}")
        self._pads = hmac_pads(settings.pii_key)
        self._set_pads(conn, self._pads)

    def configure_cursor(self, cursor: DuckDBPyConnection) -> None:
        # a cursor is a new session of the same database: session variables do not carry over
        pads = getattr(self, "_pads", None) or hmac_pads(load_settings().pii_key)
        self._set_pads(cursor, pads)

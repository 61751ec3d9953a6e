"""The PostgreSQL server the Postgres tests use: libpq PG* variables, unset PGHOST = 127.0.0.1.

Tests skip when it is unreachable, except where CLM_REQUIRE_POSTGRES is set (CI), where they fail.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg2
import pytest


def admin_connection(dbname: str | None = None):
    """An autocommit connection to ``dbname``, else to the first of PGDATABASE, `test`, `postgres` found."""
    candidates = [dbname] if dbname else [os.environ.get("PGDATABASE"), "test", "postgres"]
    errors = []
    for name in dict.fromkeys(n for n in candidates if n):
        try:
            conn = psycopg2.connect(
                host=os.environ.get("PGHOST") or "127.0.0.1", dbname=name, connect_timeout=5
            )
        except psycopg2.OperationalError as error:
            errors.append(f"{name}: {str(error).strip()}")
            continue
        conn.autocommit = True
        return conn
    message = "PostgreSQL unreachable: " + "; ".join(errors)
    if os.environ.get("CLM_REQUIRE_POSTGRES"):
        pytest.fail(message + " (CLM_REQUIRE_POSTGRES is set)")
    pytest.skip(message)


@contextmanager
def scratch_database(prefix: str) -> Iterator[str]:
    """A fresh database, dropped afterwards (with force: a lingering session must not leak it)."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = admin_connection()
    try:
        with admin.cursor() as cur:
            cur.execute(f'create database "{name}"')
        yield name
    finally:
        with admin.cursor() as cur:
            cur.execute(f'drop database if exists "{name}" with (force)')
        admin.close()

"""Keyed hashes that replace personal data (emails) in marts.

HMAC-SHA256 of the normalized value (trimmed, lower-cased) with ``CLM_PII_KEY``: stable across runs
and targets, not reversible without the key. Postgres computes the same with pgcrypto's ``hmac``.
"""

from __future__ import annotations

import hashlib
import hmac

import pyarrow as pa


def normalize_email(value: str | None) -> str | None:
    if value is None:
        return None
    cleaned = value.strip().lower()
    return cleaned or None


def pii_hash(value: str | None, key: str) -> str | None:
    """Hex HMAC-SHA256 of ``value`` as given (callers normalize first); None stays None."""
    if value is None:
        return None
    return hmac.new(key.encode(), value.encode(), hashlib.sha256).hexdigest()


def pii_hash_arrow(values: pa.Array, key: str) -> pa.Array:
    """Vectorized entry point for a DuckDB arrow UDF."""
    return pa.array([pii_hash(v, key) for v in values.to_pylist()], type=pa.string())

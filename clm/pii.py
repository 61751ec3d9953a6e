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


# HMAC-SHA256 (RFC 2104) for an engine with SHA-256 but no HMAC (Spark): the key padded to SHA-256's 64-byte
# block, XORed with the inner and outer pads. Spark's sessions get the two as settings whose values the SQL
# names by reference (macro spark__clm_pii_hash), so the key is never in compiled SQL.
SHA256_BLOCK = 64
SPARK_PAD_SETTINGS = ("clm.pii_inner_pad", "clm.pii_outer_pad")
# The environment variables profiles.yml's spark output reads them from (clm sets them for dbt).
SPARK_PAD_ENV = ("CLM_PII_INNER_PAD", "CLM_PII_OUTER_PAD")
# DuckDB: session variables that clm.dbt_plugin sets on every dbt connection (macro duckdb__clm_pii_hash).
DUCKDB_PAD_VARIABLES = ("clm_pii_inner_pad", "clm_pii_outer_pad")


def hmac_pads(key: str) -> tuple[str, str]:
    """Hex of (key XOR ipad, key XOR opad): HMAC-SHA256(key, m) = SHA256(outer || SHA256(inner || m))."""
    raw = key.encode()
    if len(raw) > SHA256_BLOCK:
        raw = hashlib.sha256(raw).digest()
    raw = raw.ljust(SHA256_BLOCK, b"\0")
    inner = bytes(b ^ 0x36 for b in raw)
    outer = bytes(b ^ 0x5C for b in raw)
    return inner.hex(), outer.hex()


def spark_pad_env(key: str) -> dict[str, str]:
    return dict(zip(SPARK_PAD_ENV, hmac_pads(key), strict=True))


def pii_hash_arrow(values: pa.Array, key: str) -> pa.Array:
    """Vectorized entry point for a DuckDB arrow UDF."""
    return pa.array([pii_hash(v, key) for v in values.to_pylist()], type=pa.string())

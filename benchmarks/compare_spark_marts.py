"""Compare the marts a `clm run --target spark` published with those of a DuckDB `clm run` of the same zone.

Needs no Spark: the local server's published tables are Parquet partitions under the Spark data directory
(`CLM_DATA_DIR/spark/warehouse/clm_serving.db/marts__<mart>__<shape>/clm_version=<n>/`), and DuckDB reads
them. The version compared is the newest one the marts' tables hold, which is what BI reads after a run that
published (a blocked or failed last run would leave its staged version there: compare after a published
run only). For every mart of the DuckDB serving file's `marts` schema: the row counts, and the rows that
differ with EXCEPT ALL both ways, each side's columns cast to DuckDB's column types and DOUBLE columns
rounded to --float-decimals (two engines' floating-point results may differ in the last bits). Prints one
line per mart; exit 0 when no row differs, 1 otherwise.

Usage: python benchmarks/compare_spark_marts.py --spark-data DIR --duckdb-serving FILE [--float-decimals 6]
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import duckdb

FLOATS = ("DOUBLE", "FLOAT", "REAL")


def spark_partition(serving_dir: Path, mart: str, version: int | None = None) -> tuple[Path, int] | None:
    """The Parquet folder of ``mart``'s newest (or given) version, and that version."""
    found = []
    for table in serving_dir.glob(f"marts__{mart.lower()}__*"):
        for part in table.glob("clm_version=*"):
            found.append((int(part.name.split("=", 1)[1]), part))
    if version is not None:
        found = [f for f in found if f[0] == version]
    if not found:
        return None
    number, part = max(found)
    return part, number


def shaped(relation: str, cols: list[tuple[str, str]], float_decimals: int) -> str:
    """A select of ``relation``'s columns cast to DuckDB's types, floats rounded."""
    items = []
    for name, kind in cols:
        quoted = '"' + name.replace('"', '""') + '"'
        value = f"cast({quoted} as {kind})"
        if re.sub(r"\(.*", "", kind) in FLOATS:
            value = f"round({value}, {float_decimals})"
        items.append(f"{value} as {quoted}")
    return f"select {', '.join(items)} from {relation}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--spark-data", type=Path, required=True, help="CLM_DATA_DIR of the Spark run")
    parser.add_argument("--duckdb-serving", type=Path, required=True, help="serving.duckdb of the DuckDB run")
    parser.add_argument("--float-decimals", type=int, default=6)
    args = parser.parse_args(argv)

    serving_dir = args.spark_data / "spark" / "warehouse" / "clm_serving.db"
    con = duckdb.connect()
    con.execute(f"attach '{args.duckdb_serving}' as duck (read_only)")
    marts = [
        name
        for (name,) in con.execute(
            "select table_name from duckdb_tables() where database_name = 'duck' and schema_name = 'marts' "
            "order by 1"
        ).fetchall()
    ]
    versions = [found[1] for mart in marts if (found := spark_partition(serving_dir, mart))]
    version = max(versions) if versions else None
    print(f"Spark version {version} under {serving_dir}; DuckDB {args.duckdb_serving}")
    differing = 0
    for mart in marts:
        found = spark_partition(serving_dir, mart, version)
        if found is None:
            print(f"{mart}: not published on Spark")
            differing += 1
            continue
        part, _ = found
        cols = con.execute(
            "select column_name, data_type from duckdb_columns() where database_name = 'duck' "
            "and schema_name = 'marts' and table_name = ? order by column_index",
            [mart],
        ).fetchall()

        duck = f'duck.marts."{mart}"'
        # Spark writes no file for a partition of no rows
        spark = f"read_parquet('{part}/*.parquet')" if any(part.glob("*.parquet")) else f"{duck} where false"
        (spark_rows,) = con.execute(f"select count(*) from {spark}").fetchone()
        (duck_rows,) = con.execute(f"select count(*) from {duck}").fetchone()
        spark_side, duck_side = (shaped(r, cols, args.float_decimals) for r in (spark, duck))
        (only_spark,) = con.execute(f"select count(*) from ({spark_side} except all {duck_side})").fetchone()
        (only_duck,) = con.execute(f"select count(*) from ({duck_side} except all {spark_side})").fetchone()
        same = only_spark == 0 and only_duck == 0 and spark_rows == duck_rows
        differing += 0 if same else 1
        print(
            f"{mart}: {duck_rows:,} rows on DuckDB, {spark_rows:,} on Spark; only on Spark {only_spark}, "
            f"only on DuckDB {only_duck}{'' if same else '  <-- differs'}"
        )
    print(f"{len(marts)} marts compared, {differing} differ")
    return 1 if differing else 0


if __name__ == "__main__":
    sys.exit(main())

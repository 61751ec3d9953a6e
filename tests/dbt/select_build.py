"""`make test-dbt SELECT=...`: `dbt build --select SELECT` (models, seeds, data and unit tests) on the dbt
suite's fixture, in a scratch DuckDB file that is built once and reused.

The fixture is the one tests/dbt/conftest.py builds (raw_fixture.py, as of 2024-03-31), loaded by the same
code. The scratch file (target/test-dbt/fixture.duckdb) holds the raw layer plus every model and seed built
once, without tests; it is rebuilt only when the fixture's inputs change (KEY_INPUTS) or with --rebuild. A
run then builds SELECT, plus any ancestor of SELECT that differs from that first build (`state:modified`
against the manifest saved with it), so an edited upstream model is never read stale.

    python -m tests.dbt.select_build --select fct_mrr_movements+
    python -m tests.dbt.select_build --select state:modified+ --state main-state --defer   # CI's slim build
    python -m tests.dbt.select_build      # only (re)build the scratch file: CI uploads it from main
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import sys
import time
from importlib.metadata import version
from pathlib import Path

from tests.dbt import raw_fixture
from tests.dbt.conftest import AS_OF, REPO, WITHOUT_CLV_PHASE, DbtRun, load_duckdb_fixture, run_dbt

SCRATCH = REPO / "target" / "test-dbt"
# What the raw layer in the scratch file is made of; the models are dbt's business (state:modified).
KEY_INPUTS = [
    REPO / "tests" / "dbt" / "raw_fixture.py",
    REPO / "tests" / "dbt" / "conftest.py",
    REPO / "clm" / "ingest" / "schemas.py",
    Path(__file__),
]


def fixture_key() -> str:
    # the engine's versions too: CI reuses a file that main's run built
    digest = hashlib.sha256(f"{AS_OF} duckdb {version('duckdb')} dbt {version('dbt-core')}".encode())
    for path in KEY_INPUTS:
        digest.update(path.read_bytes())
    return digest.hexdigest()


def dbt_env(scratch: Path) -> dict[str, str]:
    return {"CLM_BUILD_DB": str(scratch / "fixture.duckdb"), "CLM_TARGET": "duckdb"}


def say(run: DbtRun) -> None:
    print(run.output, end="" if run.output.endswith("\n") else "\n")


def ensure_fixture(scratch: Path, rebuild: bool) -> bool:
    """The scratch file with the raw layer, seeds and models built; True when it had to be (re)built."""
    key_file = scratch / "fixture.key"
    if not rebuild and key_file.exists() and key_file.read_text() == fixture_key():
        return False
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    load_duckdb_fixture(scratch / "fixture.duckdb", raw_fixture.load)
    # models and seeds only: the tests run with the selection that asks for them
    args = ["build", "--resource-type", "model", "--resource-type", "seed", *WITHOUT_CLV_PHASE]
    run = run_dbt(args, scratch, dbt_env(scratch))
    if run.returncode != 0:
        say(run)
        # every model is built here: a model of the branch that does not build stops the fixture too
        raise SystemExit(f"building the fixture in {scratch} failed: see dbt's errors above")
    (scratch / "state").mkdir()
    shutil.copy(run.target_path / "manifest.json", scratch / "state" / "manifest.json")
    key_file.write_text(fixture_key())
    return True


def with_ancestors(selector: str) -> str:
    """``selector`` with its ancestors (dbt's ``+`` in front), unless it has a graph operator in front."""
    return selector if selector[:1] in "+@" or selector[:1].isdigit() else f"+{selector}"


def build_args(select: str, state: str | None, defer: bool) -> list[str]:
    selection = select.split()
    if state is None:
        # SELECT, and the ancestors of SELECT edited since the scratch file was built
        selection += [f"{with_ancestors(part)},state:modified" for part in select.split()]
        state = str(SCRATCH / "state")
    args = ["build", "--select", *selection, *WITHOUT_CLV_PHASE, "--state", state]
    return [*args, "--defer"] if defer else args


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--select", help="a dbt selection, e.g. fct_mrr_movements+ (none: the file only)")
    parser.add_argument(
        "--state", help="directory of the manifest to compare with (default: the scratch build's)"
    )
    parser.add_argument("--defer", action="store_true", help="pass --defer (with --state)")
    parser.add_argument("--rebuild", action="store_true", help="rebuild the scratch file first")
    options = parser.parse_args(argv)
    start = time.monotonic()
    if ensure_fixture(SCRATCH, options.rebuild):
        print(f"built the fixture into {SCRATCH / 'fixture.duckdb'} in {time.monotonic() - start:.0f} s")
    if options.select is None:
        return 0
    run = run_dbt(build_args(options.select, options.state, options.defer), SCRATCH, dbt_env(SCRATCH))
    say(run)
    print(f"select_build: {time.monotonic() - start:.0f} s in all")
    return run.returncode


if __name__ == "__main__":
    sys.exit(main())

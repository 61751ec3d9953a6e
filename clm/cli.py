"""The `clm` command (CONTRACT 1): generate, run, ui."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import click

from clm.config import REPO_ROOT, Settings, load_settings


def _parse_date(_ctx: click.Context, _param: click.Parameter, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date in YYYY-MM-DD form") from None


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """clm: customer-lifecycle warehouse (ingest -> dbt -> quality gate -> publish)."""


@main.command()
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path))
@click.option("--customers", required=True, type=click.IntRange(min=1))
@click.option("--seed", required=True, type=int)
@click.option("--start", callback=_parse_date, help="First day of history (YYYY-MM-DD).")
@click.option("--end", callback=_parse_date, help="Last load date (YYYY-MM-DD).")
@click.option("--messy", is_flag=True, help="Inject the bad-input faults of CONTRACT 5.")
def generate(
    out_dir: Path, customers: int, seed: int, start: date | None, end: date | None, messy: bool
) -> None:
    """Write deterministic synthetic extracts in the landing layout."""
    from clm.generate import generate as run_generate

    summary = run_generate(
        out_dir,
        customers,
        seed,
        start=start,
        end=end,
        messy=messy,
        progress=lambda m: click.echo(m, err=True),
    )
    files = summary.get("files", "?")
    click.echo(f"wrote {files} files for {customers:,} customers to {out_dir}")


def _prepare_environment(settings: Settings) -> None:
    """Everything Dagster and dbt read from the environment, set before they are imported."""
    settings.ensure_dirs()
    # dbt and dagster beside this interpreter, even without .venv/bin on PATH (dagster-dbt looks up "dbt").
    bin_dir = str(Path(sys.executable).parent)
    os.environ["PATH"] = os.pathsep.join([bin_dir, os.environ.get("PATH", "")])
    os.environ["DAGSTER_HOME"] = str(settings.dagster_home)
    os.environ["DBT_TARGET_PATH"] = str(settings.dbt_target_dir)
    os.environ["DBT_LOG_PATH"] = str(settings.dbt_target_dir / "logs")
    os.environ["CLM_BUILD_DB"] = str(settings.build_db)
    dagster_yaml = settings.dagster_home / "dagster.yaml"
    if not dagster_yaml.exists():
        dagster_yaml.write_text("telemetry:\n  enabled: false\n")


def _dbt_parse() -> None:
    """@dbt_assets needs a manifest when the definitions are imported."""
    dbt = Path(sys.executable).with_name("dbt")
    cmd = [str(dbt), "parse", "--quiet", "--project-dir", str(REPO_ROOT), "--profiles-dir", str(REPO_ROOT)]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO_ROOT)
    if proc.returncode != 0:
        raise click.ClickException(f"dbt parse failed:\n{proc.stdout}{proc.stderr}")


@main.command()
@click.option("--raw", "raw_dir", type=click.Path(file_okay=False, path_type=Path), help="Landing zone root.")
@click.option("--as-of", "as_of", callback=_parse_date, help="Default: newest load date landed.")
@click.option("--full-refresh", is_flag=True, help="Reload every landed file and rebuild every model.")
@click.option("--target", type=click.Choice(["duckdb", "postgres"]), default="duckdb", show_default=True)
def run(raw_dir: Path | None, as_of: date | None, full_refresh: bool, target: str) -> None:
    """Run the pipeline in-process: ingest, dbt build, quality gate, publish."""
    if raw_dir is not None:
        os.environ["CLM_RAW_DIR"] = str(raw_dir.resolve())
    settings = load_settings()
    if not settings.raw_dir.is_dir():
        raise click.ClickException(
            f"landing zone {settings.raw_dir} does not exist (set --raw or CLM_RAW_DIR)"
        )
    _prepare_environment(settings)
    _dbt_parse()

    from clm.pipeline import run_pipeline

    outcome = run_pipeline(settings, as_of=as_of, full_refresh=full_refresh, target=target)
    click.echo(outcome.report)
    _exit_quietly(0 if outcome.published else 1)


def _exit_quietly(code: int) -> None:
    """Exit without interpreter teardown, after multiprocessing's own exit handler.

    Every file is closed and the Dagster instance disposed by now. Skipping teardown avoids duckdb 2.0's
    nanobind reference-leak report (objects still held by library caches), which would bury the summary
    under 100 lines of noise; running multiprocessing's handler first releases its semaphores cleanly.
    """
    from multiprocessing import util

    util._exit_function()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


@main.command()
@click.option("--port", default=3000, show_default=True)
def ui(port: int) -> None:
    """Start the Dagster web UI on the clm code location."""
    settings = load_settings()
    _prepare_environment(settings)
    _dbt_parse()
    dagster = Path(sys.executable).with_name("dagster")
    cmd = [str(dagster), "dev", "-m", "orchestration.definitions", "--port", str(port)]
    os.chdir(REPO_ROOT)
    os.execv(str(dagster), cmd)


if __name__ == "__main__":
    main()

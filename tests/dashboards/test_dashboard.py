"""The dashboard (dashboards/, an Evidence project) built from a published serving file, every page opened in
headless Chromium.

Static checks of the project (its pages read only the sources it defines, each source reads only published
marts and audit tables, money is labelled with its currency) need nothing installed. The rest needs node, the
dashboard's npm packages (make test installs them, `make dashboard-packages`) and Debian's chromium (`make
browser`); without them it skips, or fails when CLM_REQUIRE_BROWSER=1 (.ci/run). On the serving file of a
`clm run` of tests/fixtures/landing_small:
- every source query runs through the DuckDB Node client that Evidence's DuckDB plugin uses (@duckdb/node-api,
  pinned by dashboards/package-lock.json), which is a 1.x client reading a file duckdb 2.0 wrote in storage
  version v1.4.0, and returns what the Python client reads;
- `dashboards/build.sh` (make dashboard) builds the site, and dashboards/check_pages.mjs opens every page:
  no console error, every chart drawn with the mart's points, every data table with rows; a screenshot per
  page lands in the test's tmp directory (dashboard_pages*/screenshots).

Why Evidence 39: DuckDB-Wasm, with which Evidence writes its parquet files and queries them in the browser,
has parquet built in up to 1.28.0; later releases (Evidence 40's) download it from extensions.duckdb.org at
run time, which is out of reach offline (README, *Dashboard*).
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from decimal import Decimal
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import duckdb
import pytest

from tests.environment import without_clm_settings

ROOT = Path(__file__).resolve().parents[2]
DASHBOARDS = ROOT / "dashboards"
SOURCES = DASHBOARDS / "sources" / "clm"
PAGES = DASHBOARDS / "pages"
NODE_API = DASHBOARDS / "node_modules" / "@duckdb" / "node-api"
FIXTURE = ROOT / "tests" / "fixtures" / "landing_small"
CLM = str(Path(sys.executable).with_name("clm"))
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")

# The pages of the issue (17, item 4), by file: what each must chart.
PAGE_FILES = {
    "index.md",
    "lifecycle-funnel.md",
    "mrr-bridge.md",
    "cohort-retention.md",
    "clv.md",
    "run-health.md",
}


def _source_sql(name: str, currency: str = "USD") -> str:
    return (SOURCES / f"{name}.sql").read_text().replace("${reporting_currency}", currency)


def _sources() -> list[str]:
    return sorted(path.stem for path in SOURCES.glob("*.sql"))


def test_the_pages_read_only_the_sources_the_project_defines() -> None:
    assert {path.name for path in PAGES.glob("*.md")} == PAGE_FILES
    read: set[str] = set()
    for page in PAGES.glob("*.md"):
        names = set(re.findall(r"\bclm\.([a-z_]+)", page.read_text()))
        assert names <= set(_sources()), (page.name, names - set(_sources()))
        read |= names
    # Every source is charted somewhere (an unused one would only cost build time).
    assert read == set(_sources())


def test_the_sources_read_only_published_marts_and_audit_tables() -> None:
    # Every model under dbt_project/models/marts/ is published (CONTRIBUTING.md).
    marts = {path.stem for path in (ROOT / "dbt_project" / "models" / "marts").rglob("*.sql")}
    allowed = {f"marts.{name}" for name in marts} | {
        "audit.runs",
        "audit.load_manifest",
        "audit.quarantine",
        "audit.run_warnings",
    }
    for name in _sources():
        tables = set(re.findall(r"\b((?:marts|audit)\.[a-z_]+)", _source_sql(name)))
        assert tables <= allowed, (name, tables - allowed)


def test_money_is_labelled_with_the_reporting_currency() -> None:
    # Every page that shows money formats it with the currency read from the settings source.
    for page in ("mrr-bridge.md", "cohort-retention.md", "clv.md", "index.md"):
        text = (PAGES / page).read_text()
        assert "from clm.settings" in text, page
        assert "currency = settings[0]?.reporting_currency" in text, page
        assert "' \"#,##0" in text, page  # the format string '"USD "#,##0...'


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The serving file of a `clm run` on the small landing zone (about a minute)."""
    missing = [
        what
        for what, there in (
            ("node", shutil.which("node") is not None),
            ("dashboards/node_modules (make dashboard-packages)", NODE_API.is_dir()),
            (f"{CHROMIUM} (make browser)", Path(CHROMIUM).exists()),
        )
        if not there
    ]
    if missing:
        if os.environ.get("CLM_REQUIRE_BROWSER") == "1":
            pytest.fail(f"CLM_REQUIRE_BROWSER=1 but missing: {', '.join(missing)}")
        pytest.skip(f"missing: {', '.join(missing)}")
    tmp = tmp_path_factory.mktemp("dashboard")
    raw = tmp / "raw"
    shutil.copytree(FIXTURE, raw, ignore=shutil.ignore_patterns("README.md"))
    env = without_clm_settings()
    env.update(CLM_RAW_DIR=str(raw), CLM_DATA_DIR=str(tmp / "warehouse"))
    run = subprocess.run([CLM, "run"], env=env, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
    return tmp / "warehouse" / "serving.duckdb"


@pytest.fixture(scope="module")
def node_read(published: Path) -> dict:
    shown = subprocess.run(
        ["node", str(DASHBOARDS / "check_sources.mjs"), str(published), "EUR"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert shown.returncode == 0, shown.stderr
    return json.loads(shown.stdout)


def test_the_node_client_is_the_one_evidence_uses_and_a_1x(node_read: dict) -> None:
    lock = json.loads((DASHBOARDS / "package-lock.json").read_text())["packages"]
    pinned = lock["node_modules/@duckdb/node-api"]["version"]
    plugin = lock["node_modules/@evidence-dev/duckdb"]["dependencies"]["@duckdb/node-api"]
    assert node_read["client"] == pinned
    assert plugin.startswith("^1.") and pinned.startswith("1.")
    # The client's own DuckDB: 1.x, older than the duckdb 2.0 that wrote the file.
    assert re.fullmatch(r"v1\.\d+\.\d+", node_read["version"]), node_read["version"]
    assert node_read["version"] == "v" + pinned.split("-")[0]
    assert duckdb.__version__.startswith("2.")


def test_every_source_reads_in_node_what_python_reads(published: Path, node_read: dict) -> None:
    assert sorted(node_read["sources"]) == _sources()
    with duckdb.connect(str(published), read_only=True) as con:
        for name in _sources():
            cursor = con.execute(_source_sql(name, "EUR"))
            columns = [d[0] for d in cursor.description]
            rows = cursor.fetchall()
            got = node_read["sources"][name]
            assert got["columns"] == columns, name
            assert len(got["rows"]) == len(rows), name
            for node_row, row in zip(got["rows"], rows, strict=True):
                for column, node_value, value in zip(columns, node_row, row, strict=True):
                    if column == "reader_duckdb_version":
                        continue  # each client's own version (the test above checks Node's)
                    if isinstance(value, int | Decimal) and not isinstance(value, bool):
                        assert Decimal(str(node_value)) == Decimal(value), (name, column)
                    elif value is not None and not isinstance(value, str | bool | float):
                        # dates and timestamps: the same instant, in the client's own text form
                        assert str(node_value)[:10] == str(value)[:10], (name, column)
                    else:
                        assert node_value == value, (name, column)


def test_the_sources_carry_what_the_pages_chart(published: Path, node_read: dict) -> None:
    sources = node_read["sources"]
    with duckdb.connect(str(published), read_only=True) as con:
        stages = con.execute("select stage from marts.rpt_lifecycle_funnel order by stage_order").fetchall()
        months = con.execute("select count(*) from marts.rpt_mrr_bridge").fetchone()[0]
        runs = con.execute(
            "select count(*), count(*) filter (status = 'published') from audit.runs"
        ).fetchone()
    # The funnel chart's stages, in funnel order: the mart's 8 default stages.
    assert [row[0] for row in sources["lifecycle_funnel"]["rows"]] == [s for (s,) in stages]
    assert len(stages) == 8
    # One bridge bar group per month of the fixture (January to March 2024).
    assert len(sources["mrr_bridge"]["rows"]) == months == 3
    # Run health: the one published run, with its 10 files and 27 rows (tests/fixtures/landing_small).
    assert runs == (1, 1)
    (run,) = [dict(zip(sources["runs"]["columns"], r, strict=True)) for r in sources["runs"]["rows"]]
    assert (run["status"], int(run["files"]), int(run["rows_loaded"]), int(run["rows_quarantined"])) == (
        "published",
        10,
        27,
        0,
    )
    # The currency the pages label money with is the one passed in.
    assert sources["settings"]["rows"][0][0] == "EUR"


# ------------------------------------------------------------------------------------------- the built site


@pytest.fixture(scope="module")
def site(published: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """dashboards/build.sh on a copy of the project (nothing is written inside the repo), with its npm
    packages linked from the repo's; the built site's folder."""
    project = tmp_path_factory.mktemp("dashboard_project") / "dashboards"
    shutil.copytree(
        DASHBOARDS,
        project,
        ignore=shutil.ignore_patterns("node_modules", "build", ".evidence", ".svelte-kit"),
    )
    (project / "node_modules").symlink_to(DASHBOARDS / "node_modules", target_is_directory=True)
    env = without_clm_settings()
    env.update(CLM_SERVING_DB=str(published), CLM_PYTHON=sys.executable)
    built = subprocess.run(
        [str(project / "build.sh"), str(project)], env=env, capture_output=True, text=True, timeout=600
    )
    assert built.returncode == 0, built.stdout[-4000:] + built.stderr[-4000:]
    assert "money in USD" in built.stdout  # the reporting_currency var, default USD
    return project / "build"


@pytest.fixture(scope="module")
def served(site: Path) -> Iterator[str]:
    """The site over HTTP on a free loopback port (Evidence's pages load their data by absolute paths)."""
    handler = functools.partial(QuietHandler, directory=str(site))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (the base class's name)
        pass


@pytest.fixture(scope="module")
def pages(served: str, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """What each page shows in headless Chromium (dashboards/check_pages.mjs), screenshots saved."""
    shots = tmp_path_factory.mktemp("dashboard_pages") / "screenshots"
    shots.mkdir()
    paths = ["/" if name == "index.md" else "/" + name.removesuffix(".md") for name in sorted(PAGE_FILES)]
    shown = subprocess.run(
        ["node", str(DASHBOARDS / "check_pages.mjs"), served, str(shots), *paths],
        env=os.environ | {"CHROMIUM": CHROMIUM},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert shown.returncode == 0, shown.stderr[-4000:]
    report = json.loads(shown.stdout)
    assert sorted(path.name for path in shots.iterdir()) == sorted(
        ("index" if p == "/" else p.strip("/")) + ".png" for p in paths
    )
    return report


def _mart(published: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(published), read_only=True) as con:
        return con.execute(sql).fetchall()


def _chart(page: dict, title_start: str) -> dict:
    (chart,) = [c for c in page["charts"] if c["title"].startswith(title_start)]
    return chart


def test_every_page_opens_without_errors_and_draws_its_charts_and_tables(pages: dict) -> None:
    assert len(pages) == len(PAGE_FILES) == 6
    for path, page in pages.items():
        assert page["errors"] == [], (path, page["errors"])
        for chart in page["charts"]:
            # Drawn: a real share of the canvas is painted, and some series has points.
            assert chart["drawn_pixels"] > 5000, (path, chart["title"])
            assert any(series["points"] > 0 for series in chart["series"]), (path, chart["title"])
            if len(chart["series"]) > 1:  # one series is named by the axis title
                assert chart["legend"], (path, chart["title"])
        for table in page["tables"]:
            assert table["rows"] > 0, path
    charted = {path for path, page in pages.items() if page["charts"]}
    assert charted == {"/lifecycle-funnel", "/mrr-bridge", "/cohort-retention", "/clv", "/run-health"}


def test_the_funnel_shows_every_stage_of_the_mart(pages: dict, published: Path) -> None:
    stages = _mart(published, "select count(*) from marts.rpt_lifecycle_funnel")[0][0]
    page = pages["/lifecycle-funnel"]
    assert [s["points"] for s in _chart(page, "Customers who ever")["series"]] == [stages] == [8]
    assert [s["points"] for s in _chart(page, "Customers in each stage now")["series"]] == [stages]
    # the table: one row per stage
    assert page["tables"][0]["rows"] == stages


def test_the_mrr_bridge_stacks_every_movement_with_fx_impact_and_the_net(
    pages: dict, published: Path
) -> None:
    months = _mart(published, "select count(*) from marts.rpt_mrr_bridge")[0][0]
    chart = _chart(pages["/mrr-bridge"], "MRR movements per month (USD)")
    assert [(s["type"], s["name"]) for s in chart["series"]] == [
        ("bar", "New"),
        ("bar", "Expansion"),
        ("bar", "Reactivation"),
        ("bar", "Fx Impact"),
        ("bar", "Contraction"),
        ("bar", "Churned"),
        ("line", "Net Change"),
    ]
    assert {s["points"] for s in chart["series"]} == {months} == {3}
    assert pages["/mrr-bridge"]["tables"][0]["rows"] == months
    assert "Money in USD" in pages["/mrr-bridge"]["text"]


def test_cohort_retention_and_clv_chart_every_cell(pages: dict, published: Path) -> None:
    cells = _mart(published, "select count(*) from marts.rpt_cohort_retention")[0][0]
    for title in ("Logo retention", "Net revenue retention"):
        (series,) = _chart(pages["/cohort-retention"], title)["series"]
        assert series["points"] == cells
    channels = _mart(
        published,
        "select count(distinct coalesce(acquisition_channel, 'unknown'))"
        " from marts.rpt_clv_by_cohort_channel",
    )[0][0]
    chart = _chart(pages["/clv"], "Historical CLV net of CAC per customer, by cohort and channel (USD)")
    assert len(chart["series"]) == channels == 2  # organic, paid_search (tests/fixtures/landing_small)


def test_run_health_shows_every_run_and_warning(pages: dict, published: Path) -> None:
    runs, warnings = _mart(
        published, "select (select count(*) from audit.runs), (select count(*) from audit.run_warnings)"
    )[0]
    page = pages["/run-health"]
    (loaded, quarantined) = _chart(page, "Rows landed per run")["series"]
    assert (loaded["name"], loaded["points"], quarantined["name"]) == ("loaded", runs, "quarantined")
    origins = _mart(published, "select count(distinct origin) from audit.run_warnings")[0][0]
    assert _chart(page, "Warnings by origin")["series"][0]["points"] == origins
    # the tables: runs, then warnings (10 a page); nothing was quarantined, which the page says
    rows = [table["rows"] for table in page["tables"]]
    assert runs in rows and min(warnings, 10) in rows
    assert "No row or file was quarantined in any run." in page["text"]
    assert re.search(r"Read by DuckDB v1\.4\.\d+", page["text"])

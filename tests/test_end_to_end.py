"""`clm run` end to end, through the installed console script, as a user runs it.

Expected values come from the hand-written landing zone tests/fixtures/landing_small (see its README.md):
every number below was worked out by hand from those files.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
import yaml

from clm import audit_docs
from clm.pii import pii_hash
from tests.environment import without_clm_settings

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
CLM = str(Path(sys.executable).with_name("clm"))
FIXTURE = ROOT / "tests" / "fixtures" / "landing_small"
PII_KEY = "test-key"


def clm(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([CLM, *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=600)


def make_env(tmp: Path, raw: Path) -> dict[str, str]:
    env = without_clm_settings()
    env.update(CLM_RAW_DIR=str(raw), CLM_DATA_DIR=str(tmp / "warehouse"), CLM_PII_KEY=PII_KEY)
    return env


def query(db: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).fetchall()


def marts_digest(db: Path) -> str:
    """Content digest of every mart (sorted rows), independent of the file's bytes."""
    digest = hashlib.sha256()
    with duckdb.connect(str(db), read_only=True) as con:
        for (table,) in con.execute(
            "select table_name from duckdb_tables() where schema_name = 'marts' order by 1"
        ).fetchall():
            rows = con.execute(f"select * from marts.{table} order by all").fetchall()
            digest.update(f"{table}:{rows!r}".encode())
    return digest.hexdigest()


@pytest.fixture(scope="module")
def small_run(tmp_path_factory: pytest.TempPathFactory) -> dict:
    tmp = tmp_path_factory.mktemp("e2e_small")
    raw = tmp / "raw"
    shutil.copytree(FIXTURE, raw, ignore=shutil.ignore_patterns("README.md"))
    env = make_env(tmp, raw)
    first = clm("run", env=env)
    assert first.returncode == 0, first.stdout + first.stderr
    serving = tmp / "warehouse" / "serving.duckdb"
    return {"tmp": tmp, "env": env, "serving": serving, "first": first}


def test_first_run_publishes_a_summary(small_run: dict) -> None:
    out = small_run["first"].stdout
    assert "PUBLISHED (as of 2024-03-02)" in out  # newest load_date in the fixture
    # 10 files, 27 data rows: contacts 4+1, deals 2, spend 3, nps 2, customers 3, subscriptions 3,
    # invoices 4, charges 3, tickets 2; nothing is bad.
    assert "ingested 10 new file(s): 27 rows read, 27 loaded, 0 quarantined" in out
    assert "dim_customers (5 rows)" in out


def test_the_first_run_shows_one_line_per_phase_and_nothing_of_the_logs(small_run: dict) -> None:
    """Issue 17: one progress line per phase with its counts, then the summary; dbt's and Dagster's logs
    only in the log file the header names."""
    first = small_run["first"]
    assert first.stderr == ""
    lines = first.stdout.splitlines()
    assert len(lines) < 40, lines  # `make run` prints under 40 lines besides pip's
    phases = {line.split(":")[0].strip(): line for line in lines if line.startswith("  ") and " ... " in line}
    phases.pop("dbt parse", None)  # only when the manifest came from another parse
    assert list(phases) == ["ingest", "dbt", "CLV", "dbt (CLV marts)", "gate", "publish"], lines
    # the counts of test_first_run_publishes_a_summary, as the phase ends
    assert "... 10 new files, 27 rows read, 27 loaded, 0 quarantined (" in phases["ingest"]
    assert phases["dbt"].startswith("  dbt: full build of ") and " models, 3 seeds; " in phases["dbt"]
    assert " passed: " in phases["gate"] and " BLOCKED " not in phases["gate"]
    declared = len(list((ROOT / "dbt_project" / "models" / "marts").rglob("*.sql")))
    assert f"... {declared} marts, " in phases["publish"], phases["publish"]
    log = (ROOT / first.stdout.split("full log: ", 1)[1].split()[0]).read_text()  # relative to ROOT, or not
    assert "quality gate passed" in log and "quality gate passed" not in first.stdout


def test_the_duckdb_command_of_the_environment_reads_the_served_file(small_run: dict) -> None:
    # README "Reading the marts from a BI tool": .venv/bin/duckdb is a 1.x client, as BI drivers are.
    cli = Path(sys.executable).with_name("duckdb")
    shown = subprocess.run(
        [
            str(cli),
            "-readonly",
            "-csv",
            str(small_run["serving"]),
            "-c",
            "select count(*), sum(current_mrr) from marts.dim_customers",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert shown.returncode == 0, shown.stderr
    # 5 customers (fixture README); the 1.x client sums the same current MRR as duckdb 2.0 reads
    count, mrr = shown.stdout.splitlines()[1].split(",")
    assert count == "5"
    assert Decimal(mrr) == sum(
        Decimal(str(v)) for (v,) in query(small_run["serving"], "select current_mrr from marts.dim_customers")
    )


def test_dim_customers_matches_hand_computed_rows(small_run: dict) -> None:
    rows = query(
        small_run["serving"],
        "select email_hash, country, segment, acquisition_channel, first_seen_at, first_paid_at "
        "from marts.dim_customers order by first_seen_at",
    )
    h = lambda email: pii_hash(email, PII_KEY)  # noqa: E731
    assert rows == [
        # c1: CRM 2024-01-05T09:00-05:00 = 14:00 UTC; invoice in_1 paid at 1704535500 = 2024-01-06 10:05 UTC
        (
            h("ann@example.com"),
            "US",
            "smb",
            "paid_search",
            datetime(2024, 1, 5, 14),
            datetime(2024, 1, 6, 10, 5),
        ),
        # c2: CRM 12:00+01:00 = 11:00 UTC; segment updated in the 2024-03-02 drop; joined to cus_2 by email
        # ("  BOB@Example.org "); in_3 paid at 1705737660 = 2024-01-20 08:01 UTC
        (
            h("bob@example.org"),
            "DE",
            "enterprise",
            "organic",
            datetime(2024, 1, 10, 11),
            datetime(2024, 1, 20, 8, 1),
        ),
        # c3: never paid
        (h("cara@example.net"), "GB", "enterprise", "referral", datetime(2024, 2, 1, 8), None),
        # c4: 17:30-08:00 = 2024-02-16 01:30 UTC, a lead
        (h("dan@example.com"), "US", "smb", "paid_social", datetime(2024, 2, 16, 1, 30), None),
        # cus_3: billing only, created 1708416000 = 2024-02-20 08:00 UTC, its only invoice is open
        (h("eve@example.com"), None, None, None, datetime(2024, 2, 20, 8), None),
    ]


def test_revenue_marts_match_hand_computed_values(small_run: dict) -> None:
    serving = small_run["serving"]
    c1, c2 = _customer(serving, "ann@example.com"), _customer(serving, "bob@example.org")
    d = Decimal
    # c1: 49.00 USD monthly; in_1 serves 01-06..02-06, in_2 02-06..03-06; the as-of date 2024-03-02 is inside.
    # c2: 1200.00 EUR yearly from 01-20 -> 100.00 EUR a month at each month's seed rate: January 1.081542 ->
    # 108.15, February 1.081625 -> 108.16, March 1.081708 -> 108.17. Movements are at constant currency
    # (docs/marts.md#fx-impact, issue 14): the same EUR 100 is retained, its +0.01 a month is fx_impact (was:
    # expansion). cus_3: only a one-off invoiceitem (and unpaid): no MRR.
    movements = query(
        serving,
        "select customer_id, month::varchar, mrr, previous_mrr, movement from marts.fct_mrr_movements",
    )
    assert sorted(movements) == sorted(
        [
            (c1, "2024-01-01", d("49.00"), d("0.00"), "new"),
            (c1, "2024-02-01", d("49.00"), d("49.00"), "retained"),
            (c1, "2024-03-01", d("49.00"), d("49.00"), "retained"),
            (c2, "2024-01-01", d("108.15"), d("0.00"), "new"),
            (c2, "2024-02-01", d("108.16"), d("108.15"), "retained"),
            (c2, "2024-03-01", d("108.17"), d("108.16"), "retained"),
        ]
    )
    bridge = query(
        serving,
        "select month::varchar, starting_mrr, new_mrr, expansion_mrr, fx_impact_mrr, ending_mrr "
        "from marts.rpt_mrr_bridge order by 1",
    )
    # fx_impact: 100 EUR x (1.081625 - 1.081542) -> 108.16 - 108.15 = 0.01, then 108.17 - 108.16 = 0.01
    assert bridge == [
        ("2024-01-01", d("0.00"), d("157.15"), d("0.00"), d("0.00"), d("157.15")),  # 49.00 + 108.15
        ("2024-02-01", d("157.15"), d("0.00"), d("0.00"), d("0.01"), d("157.16")),
        ("2024-03-01", d("157.16"), d("0.00"), d("0.00"), d("0.01"), d("157.17")),
    ]
    cohort = query(
        serving,
        "select months_since_start, cohort_customers, active_customers, net_revenue_retention, "
        "gross_revenue_retention from marts.rpt_cohort_retention order by 1",
    )
    # One cohort (2024-01, both customers, starting MRR 157.15). NRR: 157.16 / 157.15 = 1.0000636 -> 1.000064,
    # 157.17 / 157.15 = 1.0001273 -> 1.000127; GRR caps c2 at its starting 108.15 -> 1.
    assert cohort == [
        (0, 2, 2, d("1.000000"), d("1.000000")),
        (1, 2, 2, d("1.000064"), d("1.000000")),
        (2, 2, 2, d("1.000127"), d("1.000000")),
    ]
    customers = dict(
        (row[0], row[1:])
        for row in query(
            serving, "select customer_id, current_mrr, lifetime_revenue, cac from marts.dim_customers"
        )
    )
    # lifetime: c1 charges ch_1 + ch_2 = 98.00 USD; c2 ch_3 1200.00 EUR at January's 1.081542 = 1297.8504.
    # cac: c1 first paid in 2024-01 through paid_search, which spent 1000.00 that month on 1 customer;
    # c2 came through organic (no spend) -> 0.
    assert customers[c1] == (d("49.00"), d("98.00"), d("1000.00"))
    assert customers[c2] == (d("108.17"), d("1297.85"), d("0.00"))
    kpis = query(
        serving, "select month::varchar, new_customers, mrr, arpu, cac, nps, csat from marts.rpt_kpis_monthly"
    )
    by_month = {row[0]: row[1:] for row in kpis}
    # January: 2 new, MRR 157.15, ARPU 157.15 / 2 = 78.575 -> 78.58; CAC: spend 1000.00 USD + 250.00 EUR
    # x 1.081542 = 1270.3855 over the 2 customers acquired (first paid 01-06, 01-20) = 635.19275 -> 635.19.
    assert by_month["2024-01-01"][:4] == (2, d("157.15"), d("78.58"), d("635.19"))
    # February: NPS from n1 (10, promoter), n2 (6, detractor): 50 - 50 = 0; CSAT: t1 good, t2 only offered: 1.
    assert by_month["2024-02-01"][4:] == (d("0.00"), d("1.0000"))


def _customer(serving: Path, email: str) -> str:
    [(customer_id,)] = query(
        serving,
        f"select customer_id from marts.dim_customers where email_hash = '{pii_hash(email, PII_KEY)}'",
    )
    return customer_id


def test_no_raw_personal_data_in_published_tables(small_run: dict) -> None:
    with duckdb.connect(str(small_run["serving"]), read_only=True) as con:
        tables = con.execute("select schema_name, table_name from duckdb_tables()").fetchall()
        for schema, table in tables:
            text = json.dumps(con.execute(f'select * from "{schema}"."{table}"').fetchall(), default=str)
            for needle in ("example.com", "example.org", "example.net", "Archer", "Baker"):
                assert needle.lower() not in text.lower(), f"{schema}.{table} contains {needle}"


def mart_descriptions() -> dict[str, tuple[str, dict[str, str]]]:
    """Each mart's description and its columns', as written in the marts' YAML (dbt_project/models/marts/)."""
    found = {}
    for path in (ROOT / "dbt_project" / "models" / "marts").rglob("*.yml"):
        for model in (yaml.safe_load(path.read_text()) or {}).get("models") or []:
            columns = {c["name"]: c["description"] for c in model["columns"]}
            found[model["name"]] = (model["description"], columns)
    return found


def published_comments(serving: Path) -> tuple[dict[str, str | None], dict[tuple[str, str], str | None]]:
    """Table comments by "schema.table" and column comments by ("schema.table", column), read back from the
    served file by a separate read-only connection, as a BI tool reads them."""
    tables = query(serving, "select schema_name || '.' || table_name, comment from duckdb_tables()")
    columns = query(
        serving,
        "select schema_name || '.' || table_name, column_name, comment from duckdb_columns() "
        "where schema_name in ('marts', 'audit')",
    )
    return dict(tables), {(table, column): comment for table, column, comment in columns}


def test_every_published_table_and_column_carries_its_description(small_run: dict) -> None:
    tables, columns = published_comments(small_run["serving"])
    # Issue 17: the served file had no column comment at all. Now every mart and audit column has one.
    assert {t.split(".")[0] for t in tables} == {"marts", "audit"}
    assert [t for t, comment in tables.items() if not (comment or "").strip()] == []
    assert [c for c, comment in columns.items() if not (comment or "").strip()] == []
    # Verbatim from the YAML (_revenue__models.yml) and from clm.audit_docs.
    assert columns[("marts.fct_mrr_movements", "month")] == "The month, as the DATE of its first day."
    assert tables["marts.fct_mrr_movements"].startswith(
        "How each customer's monthly recurring revenue (MRR) changed from one month to the next"
    )
    assert tables["audit.runs"] == audit_docs.AUDIT_TABLES["runs"].description
    assert columns[("audit.load_manifest", "rows_quarantined")] == "Records rejected into audit.quarantine."
    # Every published mart's description and column descriptions are its YAML's, column for column.
    for name, (description, described) in mart_descriptions().items():
        assert tables[f"marts.{name}"] == description, name
        published = {column: text for (table, column), text in columns.items() if table == f"marts.{name}"}
        assert published == described, name


def test_audit_tables_describe_the_run(small_run: dict) -> None:
    serving = small_run["serving"]
    assert query(serving, "select status, as_of::varchar from audit.runs") == [("published", "2024-03-02")]
    files = query(
        serving,
        "select count(*), sum(rows_read), sum(rows_loaded), sum(rows_quarantined) from audit.load_manifest",
    )
    assert files == [(10, 27, 27, 0)]


def test_rerun_with_nothing_new_publishes_nothing_and_is_recorded_unchanged(small_run: dict) -> None:
    serving = small_run["serving"]
    before = marts_digest(serving)
    file_before = hashlib.sha256(serving.read_bytes()).hexdigest()
    second = clm("run", env=small_run["env"])
    assert second.returncode == 0, second.stdout + second.stderr
    first_id = small_run["first"].stdout.split()[2].rstrip(":")
    assert f"UNCHANGED (as of 2024-03-02): nothing new since run {first_id}" in second.stdout
    assert len(second.stdout.splitlines()) == 2 and second.stderr == ""
    # Nothing was published: the served file is the same bytes, so BI sees exactly the first run.
    assert hashlib.sha256(serving.read_bytes()).hexdigest() == file_before
    assert marts_digest(serving) == before
    assert query(serving, "select status, count(*) from audit.runs group by 1") == [("published", 1)]
    build = small_run["tmp"] / "warehouse" / "build" / "serving.duckdb"
    assert query(build, "select status, count(*) from audit.runs group by 1 order by 1") == [
        ("published", 1),
        ("unchanged", 1),
    ]


def test_full_refresh_reloads_every_file_and_rebuilds_identical_marts(small_run: dict) -> None:
    """Also: only declared marts are published, and a stray table in the build's marts schema (what a
    hand-run dbt build of a since-removed model leaves) is named in the run's warnings. Nothing new landed,
    so only --full-refresh rebuilds (a plain rerun would be `unchanged`)."""
    serving = small_run["serving"]
    before = marts_digest(serving)
    build = small_run["tmp"] / "warehouse" / "build" / "serving.duckdb"
    with duckdb.connect(str(build)) as con:
        con.execute("create table marts.old_model as select 1 as x")
    refreshed = clm("run", "--full-refresh", "-v", env=small_run["env"])
    assert refreshed.returncode == 0, refreshed.stdout + refreshed.stderr
    assert "ingested 10 new file(s): 27 rows read, 27 loaded, 0 quarantined" in refreshed.stdout
    # -v: the logs on the terminal too (stderr), and each phase line whole between them
    assert "quality gate passed" in refreshed.stderr
    assert "  ingest: reading every landed file (full refresh) ...\n" in refreshed.stdout
    assert marts_digest(serving) == before
    # The manifest now lists each file once, from the refreshing run: a rerun still loads nothing.
    assert query(serving, "select count(*), count(distinct run_id) from audit.load_manifest") == [(10, 1)]

    published = query(
        serving, "select table_name from duckdb_tables() where schema_name = 'marts' order by all"
    )
    # exactly the models under dbt_project/models/marts (all tagged 'published' in dbt_project.yml)
    declared = sorted(p.stem for p in (ROOT / "dbt_project" / "models" / "marts").rglob("*.sql"))
    assert [name for (name,) in published] == declared
    assert len(declared) == 14  # 13 + rpt_revenue_reconciliation (issue 14)
    warnings = query(
        serving,
        "select subject, message from audit.run_warnings where origin = 'publish' and run_id = "
        "(select run_id from audit.runs order by started_at desc limit 1)",
    )
    assert [subject for subject, _ in warnings] == ["marts.old_model"]
    assert "not declared as published" in warnings[0][1]


def test_blocked_run_leaves_the_marts_unchanged_and_is_audited(small_run: dict, tmp_path: Path) -> None:
    serving: Path = small_run["serving"]
    before = marts_digest(serving)
    # A strict gate: any quarantined row blocks publishing (thresholds are configuration,
    # docs/bad-input.md#thresholds).
    strict = tmp_path / "gate.yml"
    strict.write_text(
        (ROOT / "expectations" / "gate.yml")
        .read_text()
        .replace("default_max_fraction: 0.5", "default_max_fraction: 0.0")
    )
    # One good deal and one with a negative amount: 2 rows read, 1 quarantined -> fraction 0.5 > 0.0.
    drop = small_run["env"]["CLM_RAW_DIR"] + "/crm/deals/load_date=2024-03-03"
    Path(drop).mkdir(parents=True)
    (Path(drop) / "deals.csv").write_text(
        "deal_id,contact_id,deal_stage,amount,currency,created_at,closed_at\n"
        "d3,c2,open,99.00,USD,2024-03-03T08:00:00+00:00,\n"
        "d4,c3,open,-5.00,USD,2024-03-03T08:00:00+00:00,\n"
    )
    blocked = clm("run", env={**small_run["env"], "CLM_GATE_CONFIG": str(strict)})
    assert blocked.returncode == 1
    assert "BLOCKED" in blocked.stdout and "crm/deals" in blocked.stdout, blocked.stdout
    # docs/marts.md#publishing: the marts stay exactly as they were; the serving audit says why the run did
    # not publish.
    assert marts_digest(serving) == before
    [(status, message)] = query(
        serving, "select status, message from audit.runs where status not in ('published', 'unchanged')"
    )
    assert status == "blocked" and "crm/deals" in message

    # With the default thresholds the next run publishes; the blocked run's audit row stays.
    after = clm("run", env=small_run["env"])
    assert after.returncode == 0, after.stdout + after.stderr
    assert "ingested 0 new file(s)" in after.stdout  # the drop was loaded by the blocked run
    assert query(serving, "select status, count(*) from audit.runs group by 1 order by 1") == [
        ("blocked", 1),
        ("published", 3),  # the first run, the full refresh and this one
        ("unchanged", 1),  # the rerun with nothing new, in BI's audit since the next publish
    ]
    assert query(serving, "select count(*) from audit.quarantine where entity = 'deals'") == [(1,)]


def test_as_of_drives_freshness_not_the_wall_clock(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    shutil.copytree(FIXTURE, raw, ignore=shutil.ignore_patterns("README.md"))
    # The newest drop is 2024-04-15 (an empty tickets extract: nothing new arrived that day), so that is the
    # default as-of, and every source's newest data is weeks older.
    late = raw / "support" / "tickets" / "load_date=2024-04-15"
    late.mkdir(parents=True)
    header = (raw / "support/tickets/load_date=2024-03-01/tickets.csv").read_text().splitlines()[0]
    (late / "tickets.csv").write_text(header + "\n")
    env = make_env(tmp_path, raw)
    run = clm("run", env=env)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "PUBLISHED (as of 2024-04-15)" in run.stdout
    stale = query(
        tmp_path / "warehouse" / "serving.duckdb",
        "select subject, message from audit.run_warnings where origin = 'dbt' order by subject",
    )
    # Every source's newest drop is 2024-03-01 (contacts 2024-03-02): 45-46 days before the end of the
    # as-of day, past the 35-day error threshold in the sources' YAML; freshness reports, it never blocks.
    assert len(stale) == 11
    assert (
        "crm.contacts",
        "freshness error: newest load 2024-03-02T00:00:00+00:00, 45 day(s) before the as-of date's end",
    ) in stale

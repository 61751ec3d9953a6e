"""The SQL lint (.sqlfluff) catches an analyst's usual mistakes, and its stubs cover the macros models call.

`make lint` and `make test` lint every model and singular test with the same config, so a config that stops
matching the models fails there; this module checks, in a few seconds, that the config still finds what it is
for, on two small models written here: one in the house style, one with five mistakes put in by hand.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SQLFLUFF = str(Path(sys.executable).with_name("sqlfluff"))

HOUSE_STYLE = """with

customers as (

    select * from {{ ref('dim_customers') }}

),

final as (

    select
        customers.acquisition_channel,
        count(*) as customers,
        sum(case when customers.current_stage = 'churned' then 1 else 0 end) as churned_customers
    from customers
    where customers.first_seen_at < {{ clm_as_of_end() }}
    group by customers.acquisition_channel

)

select * from final
"""

# The same model with, by line: 5 upper-case keywords (CP01 twice), 13 a leading comma (LT04) and a column
# without `as` (AL02), 14 a table alias without `as` (AL01), 15 a line of 127 characters (LT05).
MISTAKES = """with

customers as (

    SELECT * FROM {{ ref('dim_customers') }}

),

final as (

    select
        c.acquisition_channel
        , count(*) customers
    from customers c
    where c.first_seen_at < {{ clm_as_of_end() }} LONG_CONDITION
    group by c.acquisition_channel

)

select * from final
""".replace("LONG_CONDITION", "and c.acquisition_channel is not null and c.current_stage <> 'lead_lead_lead'")


def lint(tmp_path: Path, sql: str) -> list[tuple[int, str]]:
    """(line, rule code) of each violation sqlfluff finds in ``sql`` with the repo's .sqlfluff."""
    model = tmp_path / "model.sql"
    model.write_text(sql)
    proc = subprocess.run(
        [SQLFLUFF, "lint", "--config", str(REPO / ".sqlfluff"), "--format", "json", str(model)],
        cwd=REPO,  # library_path in .sqlfluff is relative to the repo
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode in (0, 1), proc.stderr
    [result] = json.loads(proc.stdout)
    return sorted((v["start_line_no"], v["code"]) for v in result["violations"])


def test_the_house_style_passes(tmp_path: Path) -> None:
    assert lint(tmp_path, HOUSE_STYLE) == []


def test_the_usual_mistakes_are_found(tmp_path: Path) -> None:
    assert len(MISTAKES.splitlines()[14]) == 127
    assert lint(tmp_path, MISTAKES) == [
        (5, "CP01"),
        (5, "CP01"),
        (13, "AL02"),
        (13, "LT04"),
        (14, "AL01"),
        (15, "LT05"),
    ]


def test_an_unknown_macro_fails_the_lint(tmp_path: Path) -> None:
    sql = HOUSE_STYLE.replace("clm_as_of_end()", "clm_no_such_macro()")
    assert (16, "TMP") in lint(tmp_path, sql)


@pytest.mark.parametrize("folder", ["models", "tests"])
def test_every_macro_a_model_calls_has_a_stub(folder: str) -> None:
    """sqlfluff's jinja templater renders clm's macros with dbt_project/sqlfluff_dbt_stubs."""
    sys.path.insert(0, str(REPO / "dbt_project"))
    try:
        import sqlfluff_dbt_stubs as stubs
    finally:
        sys.path.pop(0)
    called = set()
    for path in (REPO / "dbt_project" / folder).rglob("*.sql"):
        for block in re.findall(r"\{[{%].*?[}%]\}", path.read_text(), flags=re.S):
            called |= set(re.findall(r"\b(clm_\w+)\(", block))
    assert called, "no macro calls found: the pattern no longer matches the models"
    assert sorted(name for name in called if not hasattr(stubs, name)) == []

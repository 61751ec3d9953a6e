"""Every published mart goes through the gate; the suites leave to dbt what its tests prove, and only that."""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from pathlib import Path

import yaml

from expectations.proven_by_dbt import PROVEN_BY_DBT
from expectations.suites import SUITES

REPO = Path(__file__).resolve().parents[2]
MODELS = REPO / "dbt_project" / "models"
CONTRACT_NOT_NULL = "contract: not_null constraint"


def test_every_published_mart_has_a_suite():
    # dbt_project.yml tags every model under models/marts `published` (clm.manifest reads the same tag)
    marts = {path.stem for path in MODELS.joinpath("marts").rglob("*.sql")}
    suites = {suite.table for suite in SUITES if suite.schema == "marts"}
    assert "rpt_revenue_reconciliation" in marts
    assert marts - suites == set()


@cache
def _models() -> tuple[dict, ...]:
    """The models of every YAML file under dbt_project/models."""
    files = (yaml.safe_load(path.read_text(encoding="utf-8")) or {} for path in sorted(MODELS.rglob("*.yml")))
    return tuple(model for content in files for model in content.get("models") or ())


def _generic_tests(model: dict) -> Iterator[tuple[str, str]]:
    """(dbt's name of each generic data test of a model, "<column>.<kind>" as the suites name a check)."""
    name = model["name"]
    for test in model.get("data_tests") or ():
        if isinstance(test, dict) and "unique_combination_of_columns" in test:
            combination = test["unique_combination_of_columns"]["arguments"]["combination"]
            yield (
                f"unique_combination_of_columns_{name}_{'__'.join(combination)}",
                f"{'+'.join(combination)}.unique",
            )
        if isinstance(test, dict) and "clm_column_checks" in test:
            # a model's column checks, one dbt node (issue 15); each check keeps its former test's name, the
            # name its threshold and messages use (docs/bad-input.md#thresholds)
            arguments = test["clm_column_checks"]["arguments"]
            for column in arguments.get("not_null") or ():
                column_name = column["name"] if isinstance(column, dict) else column
                yield f"not_null_{name}_{column_name}", f"{column_name}.not_null"
            for column_name in arguments.get("unique") or ():
                yield f"unique_{name}_{column_name}", f"{column_name}.unique"
            for spec in arguments.get("accepted_values") or ():
                values = "__".join(map(str, spec["values"]))
                yield f"accepted_values_{name}_{spec['column']}__{values}", f"{spec['column']}.in_set"
            for combination in arguments.get("unique_combinations") or ():
                yield (
                    f"unique_combination_of_columns_{name}_{'__'.join(combination)}",
                    f"{'+'.join(combination)}.unique",
                )
    for column in model.get("columns") or ():
        for test in column.get("data_tests") or ():
            kind = test if isinstance(test, str) else next(iter(test))
            if kind in ("not_null", "unique"):
                yield f"{kind}_{name}_{column['name']}", f"{column['name']}.{kind}"
            elif kind == "accepted_values":
                values = "__".join(map(str, test[kind]["arguments"]["values"]))
                yield f"accepted_values_{name}_{column['name']}__{values}", f"{column['name']}.in_set"


def _contracted_not_nulls(model: dict) -> Iterator[str]:
    if not ((model.get("config") or {}).get("contract") or {}).get("enforced"):
        return
    for column in model.get("columns") or ():
        if any(c.get("type") == "not_null" for c in column.get("constraints") or ()):
            yield f"{column['name']}.not_null"


def test_every_check_left_to_dbt_names_a_dbt_test_of_its_table():
    generic = {(model["name"], test): check for model in _models() for test, check in _generic_tests(model)}
    contracted = {(model["name"], check) for model in _models() for check in _contracted_not_nulls(model)}
    singular = {path.stem: path.read_text() for path in (REPO / "dbt_project" / "tests").glob("*.sql")}
    for check, proof in PROVEN_BY_DBT.items():
        table, rest = check.split(".", 1)
        if proof == CONTRACT_NOT_NULL:
            assert (table, rest) in contracted, check
        elif proof in singular:
            # a singular test proves a check of a table it reads
            assert f"ref('{table}')" in singular[proof], check
        else:
            # a generic test of the same table and column(s); an accepted_values name lists its values, so a
            # wider dbt value list would not match the suites' former name
            assert generic.get((table, proof)) == rest, check


def test_no_suite_check_repeats_a_dbt_generic_test_or_contract():
    dbt_checks = {(model["name"], check) for model in _models() for _test, check in _generic_tests(model)}
    dbt_checks |= {(model["name"], check) for model in _models() for check in _contracted_not_nulls(model)}
    suite_checks = {(suite.table, check.name) for suite in SUITES for check in suite.checks}
    assert suite_checks & dbt_checks == set()
    # Each check is in exactly one place: a suite or the list of what dbt proves.
    assert {f"{table}.{name}" for table, name in suite_checks} & set(PROVEN_BY_DBT) == set()

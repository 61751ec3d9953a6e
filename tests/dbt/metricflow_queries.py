"""MetricFlow queries for tests/dbt/test_semantic_layer.py, run in a process of their own.

`python -m tests.dbt.metricflow_queries request.json` reads {"semantic_manifest": <path of a dbt
semantic_manifest.json>, "queries": {<name>: {"metrics": [...], "group_by": [...]}}, "output": <path>} and
writes {"validation_issues": [...], <name>: {"columns": [...], "rows": [[...], ...], "sql": <the SQL
MetricFlow ran>}} as JSON to the
output path (values as text, None as null; not to stdout, where dbt may print). The dbt project, profile
and target are the repo's, with the environment it is started with (CLM_BUILD_DB: the test's private copy of
the fixture build).

It goes the way `mf query` does (dbt_metricflow.cli): the project's metadata and dbt adapter through an
in-process `dbt debug`, a MetricFlowEngine on an AdapterBackedSqlClient, but reads the semantic manifest that
the test's dbt command wrote into its own target path (`mf` reads <project>/target/semantic_manifest.json). In
its own process because dbt's in-process invocation changes global state (flags, logging, adapters) that the
other tests of a pytest worker would inherit; every query shares the one engine.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, float):
        return repr(value)
    return str(value)


def run(request: dict) -> dict:
    from dbt.adapters.factory import get_adapter_by_type
    from dbt_metricflow.cli.dbt_connectors.adapter_backed_client import AdapterBackedSqlClient
    from dbt_metricflow.cli.dbt_connectors.dbt_config_accessor import dbtProjectMetadata
    from metricflow.engine.metricflow_engine import MetricFlowEngine, MetricFlowQueryRequest
    from metricflow_semantic_interfaces.validations.semantic_manifest_validator import (
        SemanticManifestValidator,
    )
    from metricflow_semantics.model.dbt_manifest_parser import parse_manifest_from_dbt_generated_manifest
    from metricflow_semantics.model.semantic_manifest_lookup import SemanticManifestLookup

    metadata = dbtProjectMetadata.load_from_paths(profiles_path=REPO, project_path=REPO)
    adapter = get_adapter_by_type(metadata.profile.credentials.type)
    manifest = parse_manifest_from_dbt_generated_manifest(
        manifest_json_string=Path(request["semantic_manifest"]).read_text()
    )
    # what `mf validate-configs --skip-dw` checks, warnings included
    validation = SemanticManifestValidator().validate_semantic_manifest(manifest)
    issues = [str(issue.as_readable_str()) for issue in validation.all_issues]
    engine = MetricFlowEngine(
        semantic_manifest_lookup=SemanticManifestLookup(manifest), sql_client=AdapterBackedSqlClient(adapter)
    )
    answers: dict = {"validation_issues": issues}
    for name, query in request["queries"].items():
        result = engine.query(
            MetricFlowQueryRequest.create(
                metric_names=query["metrics"],
                group_by_names=query["group_by"],
                order_by_names=query["group_by"],
            )
        )
        table = result.result_df
        assert table is not None, name
        answers[name] = {
            "columns": list(table.column_names),
            "rows": [[_text(value) for value in row] for row in table.rows],
            "sql": result.sql,
        }
    return answers


def main() -> None:
    request = json.loads(Path(sys.argv[1]).read_text())
    Path(request["output"]).write_text(json.dumps(run(request)))


if __name__ == "__main__":
    main()

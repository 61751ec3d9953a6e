"""CLM_DBT_VARS: the one way a user sets a dbt var (a revenue policy, a lifecycle window) for `clm run`."""

from __future__ import annotations

import json

import pytest

from clm.config import SettingsError, load_settings


def test_unset_or_empty_means_no_vars():
    assert load_settings({}).dbt_vars == {}
    assert load_settings({"CLM_DBT_VARS": "  "}).dbt_vars == {}


def test_inline_yaml_and_json():
    yaml_text = "{revenue_churn_recognition: cancellation, revenue_delinquent_churn_days: 14}"
    expected = {"revenue_churn_recognition": "cancellation", "revenue_delinquent_churn_days": 14}
    assert load_settings({"CLM_DBT_VARS": yaml_text}).dbt_vars == expected
    assert load_settings({"CLM_DBT_VARS": json.dumps(expected)}).dbt_vars == expected
    # block YAML over several lines
    block = "revenue_reactivation_window_months: 3\nlifecycle_onboarding_days: 60\n"
    assert load_settings({"CLM_DBT_VARS": block}).dbt_vars == {
        "revenue_reactivation_window_months": 3,
        "lifecycle_onboarding_days": 60,
    }


def test_a_file(tmp_path):
    path = tmp_path / "policies.yml"
    path.write_text("revenue_churn_recognition: cancellation\nrevenue_delinquent_churn_days: null\n")
    assert load_settings({"CLM_DBT_VARS": str(path)}).dbt_vars == {
        "revenue_churn_recognition": "cancellation",
        "revenue_delinquent_churn_days": None,
    }
    with pytest.raises(SettingsError, match="does not exist"):
        load_settings({"CLM_DBT_VARS": str(tmp_path / "missing.yml")})


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[1, 2]", "must be a mapping"),
        ("just words", "must be a mapping"),
        ("{a: [1,", "is not YAML or JSON"),
        ("{as_of: 2024-01-31}", "may not set as_of"),
        ("{clm_data_tests: {}, schema_prefix: x}", "may not set clm_data_tests, schema_prefix"),
        ("{clv_min_customers: 5}", "may not set clv_min_customers"),
    ],
)
def test_refused(text, message):
    with pytest.raises(SettingsError, match=message):
        load_settings({"CLM_DBT_VARS": text})

#!/usr/bin/env bash
# Builds the dashboard as static HTML from the published serving file (make dashboard runs it).
#   dashboards/build.sh [PROJECT_DIR]
# PROJECT_DIR: the Evidence project, default this folder (the test builds a copy of it). The site goes to
# PROJECT_DIR/build (or EVIDENCE_BUILD_DIR). Environment: CLM_SERVING_DB (default
# $CLM_DATA_DIR/serving.duckdb, CLM_DATA_DIR default data/warehouse, relative to the working directory) and
# EVIDENCE_VAR__reporting_currency (default: the reporting_currency var that clm's notebooks use).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
project="$(cd "${1:-$here}" && pwd)"
serving="${CLM_SERVING_DB:-${CLM_DATA_DIR:-data/warehouse}/serving.duckdb}"
if [ ! -f "$serving" ]; then
	echo "No serving file at $serving: run make run first (or set CLM_SERVING_DB)" >&2
	exit 1
fi
if [ ! -d "$project/node_modules/@evidence-dev/evidence" ]; then
	echo "No Evidence packages in $project/node_modules: run make venv (npm ci in dashboards/)" >&2
	exit 1
fi
if [ -z "${EVIDENCE_VAR__reporting_currency:-}" ]; then
	python="${CLM_PYTHON:-$here/../.venv/bin/python}"
	EVIDENCE_VAR__reporting_currency="$("$python" -c 'from clm.plots import reporting_currency; print(reporting_currency())')"
fi
# The DuckDB plugin joins the filename to the source's folder, so it must be relative to it.
EVIDENCE_SOURCE__clm__filename="$(realpath -m --relative-to="$project/sources/clm" "$serving")"
export EVIDENCE_VAR__reporting_currency EVIDENCE_SOURCE__clm__filename
# No usage statistics sent by Evidence's CLI.
export SEND_ANONYMOUS_USAGE_STATS=no
cd "$project"
echo "dashboard: reading $serving (money in $EVIDENCE_VAR__reporting_currency)"
npm run --silent sources -- --strict
npm run --silent build
echo "dashboard: built ${EVIDENCE_BUILD_DIR:-$project/build} (serve it over HTTP, e.g. npm --prefix dashboards run preview)"

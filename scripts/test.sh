#!/usr/bin/env bash
# Run the whole test suite (lint + pytest + doctests) on SpatiaLite and PostGIS, with the
# browser test.
# Run scripts/setup.sh --postgis --browser first (.ci/run does both).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck disable=SC1091
. .venv/bin/activate
export GRIDLAW_TEST_POSTGIS_URL="${GRIDLAW_TEST_POSTGIS_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/gridlaw_test}"
ruff check .
ruff format --check .
# the module examples of grid_model and geodata run as doctests beside the tests
python -m pytest -p no:cacheprovider --doctest-modules grid_model geodata tests "$@"

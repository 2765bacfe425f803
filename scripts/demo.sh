#!/usr/bin/env bash
# Set up GridLaw with the embedded SpatiaLite database, seed the demo (Yude community) when the
# database is empty, and start the dashboard on http://localhost:8501.
# Extra arguments go to `gridlaw demo` (e.g. --scale street, --port 8600, --headless).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# shellcheck disable=SC1091
. .venv/bin/activate
export GRIDLAW_DATABASE_URL="${GRIDLAW_DATABASE_URL:-sqlite:///gridlaw.sqlite}"
exec gridlaw demo "$@"

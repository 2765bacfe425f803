#!/usr/bin/env bash
# Set up everything GridLaw needs on a Debian 12 machine: system packages (as root, or with
# sudo), a virtualenv in .venv with the project and its test extras, and — with --postgis —
# the PostGIS test database on the local PostgreSQL 15. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

want_postgis=0
want_browser=0
for arg in "$@"; do
  case "$arg" in
    --postgis) want_postgis=1 ;;
    --browser) want_browser=1 ;;
    *) echo "usage: $0 [--postgis] [--browser]" >&2; exit 2 ;;
  esac
done

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

pkgs=(libsqlite3-mod-spatialite fonts-noto-cjk libpango-1.0-0 libpangoft2-1.0-0 poppler-utils)
[ "$want_postgis" -eq 1 ] && pkgs+=(postgresql-15-postgis-3)
[ "$want_browser" -eq 1 ] && pkgs+=(chromium)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "==> apt-get install ${missing[*]}"
  if ! { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq \
      "${missing[@]}"; } >/tmp/gridlaw-apt.log 2>&1; then
    cat /tmp/gridlaw-apt.log >&2
    echo "apt-get install failed (log above)" >&2
    exit 1
  fi
fi

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "==> creating .venv"
  "$PY" -m venv .venv
fi
# shellcheck disable=SC1091
. .venv/bin/activate
# constraints.txt pins every dependency at the version the tests passed with; pip's own
# chatter (build-backend notices, this machine's missing extra indexes) goes to a log that is
# shown only when the install fails.
echo "==> pip install -e .[test,bench] (pinned by constraints.txt; log in .venv/pip.log)"
if ! python -m pip install -e ".[test,bench]" -c constraints.txt >.venv/pip.log 2>&1; then
  cat .venv/pip.log >&2
  echo "pip install failed (full log above, also in .venv/pip.log)" >&2
  exit 1
fi

if [ "$want_postgis" -eq 1 ]; then
  # The local PostgreSQL 15 (trust auth on 127.0.0.1): start it if it is down.
  if ! pg_isready -h 127.0.0.1 -p 5432 -q; then
    echo "==> starting PostgreSQL"
    $SUDO pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start
    for _ in $(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done
  fi
  for db in gridlaw_test gridlaw_test_migrations; do  # tests/conftest.py: <test db>_migrations
    if ! psql -h 127.0.0.1 -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$db'" | grep -q 1; then
      psql -h 127.0.0.1 -U postgres -q -c "CREATE DATABASE $db"
    fi
    PGOPTIONS="--client-min-messages=warning" psql -h 127.0.0.1 -U postgres -d "$db" -q \
      -c "CREATE EXTENSION IF NOT EXISTS postgis"
  done
fi

#!/usr/bin/env bash
# The README's test command: install volumeview with its test extra, then run the tests on 2 cores.
#   bash scripts/test.sh [PYTEST ARGS]      # default: -n 2 -q
# Works in an active venv/conda env, and with a stock Debian/Ubuntu python3 (it then creates .venv).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/python-env.sh

volumeview_apt "${VOLUMEVIEW_APT_BASE[@]}"
volumeview_python
"$PY" -m pip install -q --upgrade pip
"$PY" -m pip install -q -e ".[test]"
if [ $# -eq 0 ]; then
  set -- -n 2 -q
fi
exec "$PY" -m pytest "$@"

#!/usr/bin/env bash
# Regenerates drift_fixtures.json from scipy, in its own virtual environment under .venvs/ (as tools/python-envs.sh does).
set -euo pipefail
cd "$(dirname "$0")/../.."
dir=.venvs/data-fixtures
if [ ! -x "$dir/bin/python" ]; then "${PYTHON:-python3}" -m venv "$dir"; fi
"$dir/bin/pip" install -q --disable-pip-version-check -r tools/data_fixtures/requirements.txt
"$dir/bin/python" tools/data_fixtures/generate.py > tools/data_fixtures/drift_fixtures.json

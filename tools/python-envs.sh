#!/usr/bin/env bash
# Creates one virtual environment per Python peer under .venvs/ (git-ignored), so their pins never collide.
set -euo pipefail
cd "$(dirname "$0")/.."
make_env() {
    local name=$1; shift
    local dir=".venvs/$name"
    if [ ! -x "$dir/bin/python" ]; then
        python3 -m venv "$dir"
    fi
    if ! "$dir/bin/python" -c "import sys; sys.exit(0)" 2>/dev/null; then
        rm -rf "$dir"; python3 -m venv "$dir"
    fi
    "$dir/bin/pip" install -q --disable-pip-version-check "$@"
}
make_env mlflow -r tools/requirements-mlflow.txt
make_env schemathesis -r tools/requirements-schemathesis.txt

#!/usr/bin/env bash
# Creates one virtual environment per Python peer under .venvs/ (git-ignored), so their pins never collide.
set -euo pipefail
cd "$(dirname "$0")/.."
# make_env NAME PIP-ARGS…; PYTHON names the interpreter (default python3).
make_env() {
    local name=$1; shift
    local dir=".venvs/$name" python=${PYTHON:-python3}
    if [ ! -x "$dir/bin/python" ]; then
        "$python" -m venv "$dir"
    fi
    if ! "$dir/bin/python" -c "import sys; sys.exit(0)" 2>/dev/null; then
        rm -rf "$dir"; "$python" -m venv "$dir"
    fi
    "$dir/bin/pip" install -q --disable-pip-version-check "$@"
}
make_env mlflow -r tools/requirements-mlflow.txt
make_env schemathesis -r tools/requirements-schemathesis.txt
# MLServer 1.7.1 supports Python 3.9 to 3.12: take the first interpreter in that range.
mlserver_python=""
for candidate in python3 python3.12 python3.11 python3.10 python3.9; do
    if command -v "$candidate" >/dev/null 2>&1 &&
        "$candidate" -c 'import sys; sys.exit(not (3, 9) <= sys.version_info[:2] < (3, 13))' 2>/dev/null; then
        mlserver_python=$candidate; break
    fi
done
[ -n "$mlserver_python" ] || { echo "MLServer needs Python 3.9 to 3.12; none is installed" >&2; exit 1; }
if [ -x .venvs/mlserver/bin/python ] && ! .venvs/mlserver/bin/python -c 'import sys; sys.exit(not sys.version_info[:2] < (3, 13))' 2>/dev/null; then
    rm -rf .venvs/mlserver
fi
PYTHON=$mlserver_python make_env mlserver -r tools/requirements-mlserver.txt

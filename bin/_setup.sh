# Sourced by bin/run and bin/test: a virtual environment with the project installed.
# Re-installs only when pyproject.toml changed, so running either command twice is cheap and safe.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PYTHON_BIN="${PYTHON:-python3.11}"
command -v "$PYTHON_BIN" >/dev/null 2>&1 || PYTHON_BIN=python3
if [ ! -x .venv/bin/python ]; then
  echo "==> Creating the virtual environment (.venv) with $("$PYTHON_BIN" --version)"
  "$PYTHON_BIN" -m venv .venv || {
    echo "Could not create a virtual environment; on Debian: apt-get install python3-venv" >&2
    exit 1
  }
fi
stamp=".venv/.installed-$(sha1sum pyproject.toml | cut -c1-12)"
if [ ! -f "$stamp" ]; then
  echo "==> Installing dependencies (pyproject.toml)"
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -e ".[dev]"
  rm -f .venv/.installed-*
  touch "$stamp"
fi

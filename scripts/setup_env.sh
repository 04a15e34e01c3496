#!/usr/bin/env bash
# Create ./.venv with Python >= 3.12 and install le_brian into it (editable).
#   bash scripts/setup_env.sh          # the package (+ datasets extras)
#   bash scripts/setup_env.sh test     # the package and its test extras
#   bash scripts/setup_env.sh docs     # the package and the documentation tools (make -C docs html)
# Needs Python 3.12 or newer (brian2cuda 1.0b1 pins brian2 2.10.1, which needs >= 3.12).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
extra=${1:-datasets}
venv=${LE_BRIAN_VENV:-$here/.venv}

find_python() {
    local c v
    for c in "${PYTHON:-}" python3.13 python3.12 python3; do
        [ -n "$c" ] || continue
        command -v "$c" >/dev/null 2>&1 || continue
        if "$c" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null; then
            echo "$c"; return 0
        fi
    done
    # pyenv installs (python3.12 on PATH may be a shim that fails unless selected)
    if command -v pyenv >/dev/null 2>&1; then
        for v in $(pyenv versions --bare 2>/dev/null | grep -E '^3\.(1[2-9])' | sort -rV); do
            c="$(pyenv root)/versions/$v/bin/python3"
            [ -x "$c" ] && { echo "$c"; return 0; }
        done
    fi
    return 1
}

if [ ! -x "$venv/bin/python" ]; then
    py=$(find_python) || {
        echo "error: le_brian needs Python >= 3.12 (brian2 2.10.1 / brian2cuda 1.0b1);" >&2
        echo "none found as python3.13, python3.12, python3 or under pyenv. Set PYTHON=/path/to/python3.12." >&2
        exit 1
    }
    echo "creating $venv with $py ($("$py" --version))"
    "$py" -m venv "$venv"
fi
"$venv/bin/python" -m pip install -q --upgrade pip >/dev/null 2>&1 || true
# setuptools' informational "Editable installation" notice (le_brian.models maps to the
# top-level models/ folder, so the editable install uses a meta path finder) is not news
PYTHONWARNINGS="ignore:Editable installation" \
    "$venv/bin/python" -m pip install -q -e "$here[$extra]"
echo "le_brian installed in $venv"

#!/usr/bin/env bash
# Create the Python 3.12 virtualenv (.venv) and install policywatch with its dev tools.
# Python 3.12 is found on PATH as python3.12, or through pyenv (`pyenv versions`).
set -euo pipefail
cd "$(dirname "$0")/.."

works() { "$1" -c 'import sys, venv; assert sys.version_info[:2] == (3, 12)' >/dev/null 2>&1; }

find_python() {
  local candidates=()
  if command -v pyenv >/dev/null 2>&1; then
    # The interpreter itself, not the shim: the shim only works when 3.12 is the active version.
    while IFS= read -r found; do candidates+=("$found"); done < <(ls -d "$(pyenv root)"/versions/3.12*/bin/python3.12 2>/dev/null | sort -rV)
  fi
  candidates+=("$HOME"/.pyenv/versions/3.12*/bin/python3.12)
  command -v python3.12 >/dev/null 2>&1 && candidates+=("$(command -v python3.12)")
  candidates+=(/usr/local/bin/python3.12 /usr/bin/python3.12)
  for candidate in "${candidates[@]}"; do
    if [[ -x "$candidate" ]] && works "$candidate"; then echo "$candidate"; return; fi
  done
  echo "no Python 3.12 found: install it (e.g. pyenv install 3.12) and retry" >&2
  return 1
}

# A command from Debian's packages, installed once if missing: Chromium for the render function
# on the local stack and the browser tests (Playwright drives it and never downloads a browser),
# npm for `sam build` (the Chromium layer for Lambda is npm's @sparticuz/chromium). docs/rendering.md.
install_package() {  # install_package COMMAND PACKAGE WHY
  command -v "$1" >/dev/null 2>&1 && return
  command -v apt-get >/dev/null 2>&1 || { echo "no $1 and no apt-get: install $2 ($3)" >&2; return 1; }
  local sudo="" apt=(env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$2")
  [[ $(id -u) -ne 0 ]] && sudo="sudo"
  echo "installing $2 (Debian's package: $3)"
  $sudo "${apt[@]}" >/dev/null || { $sudo apt-get update -q >/dev/null && $sudo "${apt[@]}" >/dev/null; }
}

PYTHON=$(find_python)
install_package chromium chromium "the render function and the browser tests"
install_package npm npm "sam build packs the Chromium layer"
CHECKOV_VERSION=3.3.30
if [[ ! -x .venv/bin/python3.12 ]]; then
  echo "creating .venv with $PYTHON"
  rm -rf .venv
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[dev]'
# checkov (`make lint`) in a venv of its own: its pins would fight aws-sam-cli's in one venv.
if [[ ! -x .venv/checkov/bin/checkov ]] || ! .venv/checkov/bin/checkov --version 2>/dev/null | grep -qx "$CHECKOV_VERSION"; then
  "$PYTHON" -m venv .venv/checkov
  .venv/checkov/bin/python -m pip install --quiet --upgrade pip
  .venv/checkov/bin/python -m pip install --quiet "checkov==$CHECKOV_VERSION"
fi
echo "ready: $(.venv/bin/python --version), $(.venv/bin/sam --version), ministack $(.venv/bin/python -c 'import importlib.metadata as m; print(m.version("ministack"))'), $(chromium --version 2>/dev/null | head -1)"

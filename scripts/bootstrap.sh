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

# Chromium for the render function on the local stack and for the browser tests: the
# distribution's package (docs/rendering.md); Playwright drives it and never downloads a browser.
install_chromium() {
  command -v chromium >/dev/null 2>&1 && return
  command -v apt-get >/dev/null 2>&1 || { echo "no chromium and no apt-get: install Chromium and set CHROMIUM_PATH" >&2; return 1; }
  local sudo=""
  [[ $(id -u) -ne 0 ]] && sudo="sudo"
  echo "installing Chromium (Debian's chromium package)"
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium >/dev/null \
    || { $sudo apt-get update -q >/dev/null && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium >/dev/null; }
}

# npm for `sam build`: the render function's Chromium layer is npm's @sparticuz/chromium.
install_npm() {
  command -v npm >/dev/null 2>&1 && return
  command -v apt-get >/dev/null 2>&1 || { echo "no npm: install Node.js and npm (sam build packs the Chromium layer)" >&2; return 1; }
  local sudo=""
  [[ $(id -u) -ne 0 ]] && sudo="sudo"
  echo "installing npm (Debian's package)"
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends npm >/dev/null \
    || { $sudo apt-get update -q >/dev/null && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends npm >/dev/null; }
}

PYTHON=$(find_python)
install_chromium
install_npm
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

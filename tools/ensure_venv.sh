#!/usr/bin/env bash
# Create or update the project's virtual environment, only when something changed.
# Usage: tools/ensure_venv.sh VENV_DIR
# Installs requirements-dev.txt (the learner runtime of requirements.txt, through its `-r`, plus
# development and tests) under constraints.txt (the exact versions the solutions were executed
# with: tools/lock_venv.sh), and this checkout, editable.
# The stamp holds a hash of requirements.txt + requirements-dev.txt + constraints.txt +
# pyproject.toml and the path of this checkout;
# it is written only after every install step succeeded, so a failed install is never reused.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
venv="${1:?usage: ensure_venv.sh VENV_DIR}"
python="${KIT_PYTHON:-python3}"
stamp="$venv/.kit-stamp"
want="$(cat "$repo/requirements.txt" "$repo/requirements-dev.txt" "$repo/constraints.txt" "$repo/pyproject.toml" | sha256sum | cut -c1-16) $repo"

if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x "$venv/bin/python" ]; then
  exit 0
fi

log="$(mktemp -t kit-install.XXXXXX.log)"
fail() {
  echo "ERROR: $1 (full log: $log)" >&2
  tail -n 25 "$log" >&2 || true
  rm -f "$stamp"
  exit 1
}

have="$( [ -f "$stamp" ] && cut -d' ' -f1 "$stamp" || true)"
if [ "$have" != "${want%% *}" ]; then
  if [ ! -x "$venv/bin/python" ]; then
    echo "Creating $venv with $($python --version 2>&1) ..."
    "$python" -m venv "$venv" >>"$log" 2>&1 || fail "could not create the virtual environment at $venv"
  fi
  rm -f "$stamp"
  echo "Installing requirements into $venv (first time: several minutes, about 6 GB) ..."
  "$venv/bin/python" -m pip install --upgrade "pip>=24" >>"$log" 2>&1 || fail "upgrading pip failed"
  "$venv/bin/python" -m pip install -r "$repo/requirements-dev.txt" -c "$repo/constraints.txt" >>"$log" 2>&1 \
    || fail "pip install -r requirements-dev.txt (with requirements.txt, under constraints.txt) failed"
fi
# The kit itself, editable, so notebooks/ and solutions/ import helpers from this checkout.
"$venv/bin/python" -m pip install --no-deps --no-build-isolation -e "$repo" >>"$log" 2>&1 \
  || fail "installing this checkout (pip install -e .) failed"
"$venv/bin/python" -c "import helpers, pl_bolts.optimizers.lr_scheduler" >>"$log" 2>&1 \
  || fail "the environment installed but 'import pl_bolts' fails (is setuptools<81 in place?)"
echo "$want" > "$stamp"
rm -f "$log"
echo "Environment ready: $venv"

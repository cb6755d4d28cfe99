#!/usr/bin/env bash
# Write constraints.txt: every package of a working venv at its exact version.
# Usage: tools/lock_venv.sh VENV_DIR
# tools/ensure_venv.sh installs requirements-dev.txt under these constraints, so a venv built on a
# fresh machine gets the versions the solutions were executed with: a newer Lightning, numpy or
# scikit-learn can change the trained numbers that nbval compares. Run this after changing a
# requirement (and after re-executing the solutions in the new venv), then commit both.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
venv="${1:?usage: lock_venv.sh VENV_DIR}"
out="$repo/constraints.txt"
{
  echo "# The exact versions of the venv the solutions were executed in (tools/lock_venv.sh writes this"
  echo "# file; tools/ensure_venv.sh installs under it). Packages another platform does not install"
  echo "# (the CUDA wheels torch pulls on Linux) are only constraints there, never installed."
  "$venv/bin/python" -m pip freeze --all --exclude-editable | grep -v -E '^(pip|wheel)==' | LC_ALL=C sort -f
} > "$out.tmp"
mv "$out.tmp" "$out"
echo "wrote $out ($(grep -c '==' "$out") packages)"

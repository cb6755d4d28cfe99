#!/usr/bin/env bash
# Write constraints.txt: every package of a working venv at its exact version.
# Usage: tools/lock_venv.sh VENV_DIR
# tools/ensure_venv.sh installs requirements-dev.txt under these constraints, so a venv built on a
# fresh machine gets the versions the solutions were executed with: a newer Lightning, numpy or
# scikit-learn can change the trained numbers that nbval compares. Run this after changing a
# requirement (and after re-executing the solutions in the new venv), then commit both.
# Each pin carries the venv's Python version and platform as an environment marker: elsewhere
# (Python 3.10 or 3.13, macOS, Windows) the exact versions may not exist, so there pip resolves
# the requirement ranges as it would without a lock.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
venv="${1:?usage: lock_venv.sh VENV_DIR}"
out="$repo/constraints.txt"
marker="$("$venv/bin/python" -c 'import sys; print(f"python_version == \"{sys.version_info[0]}.{sys.version_info[1]}\" and sys_platform == \"{sys.platform}\"")')"
{
  echo "# The exact versions of the venv the solutions were executed in (tools/lock_venv.sh writes this"
  echo "# file; tools/ensure_venv.sh installs under it). They bind only on that venv's Python and"
  echo "# platform (the marker); packages a platform does not install (the CUDA wheels torch pulls"
  echo "# on Linux) are only constraints, never installed."
  "$venv/bin/python" -m pip freeze --all --exclude-editable | grep -v -E '^(pip|wheel)==' | LC_ALL=C sort -f \
    | sed "s/\$/ ; $marker/"
} > "$out.tmp"
mv "$out.tmp" "$out"
echo "wrote $out ($(grep -c '==' "$out") packages, for $marker)"

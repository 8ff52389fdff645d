#!/usr/bin/env bash
# Create the peers' venvs for bench/drift.py, one per tool (their pins conflict with each
# other and with mlaudit's own venv, which is never touched):
#   bench/.venv-evidently  bench/.venv-nannyml  bench/.venv-whylogs
# Each is installed from bench/requirements-<tool>.lock.txt (the full, frozen set that was
# benchmarked) when present, else from bench/requirements-<tool>.txt (the top-level pins).
# Usage: bash bench/setup_peers.sh [evidently nannyml whylogs]   (PYTHON=python3.11 to choose)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
py="${PYTHON:-python3}"
"$py" -c 'import sys; assert sys.version_info[:2] == (3, 11), "the pins were made for Python 3.11"' \
  || { echo "need Python 3.11 (set PYTHON=...)" >&2; exit 2; }
tools=("$@")
[ ${#tools[@]} -eq 0 ] && tools=(evidently nannyml whylogs)
install() {
  local t="$1" venv="$here/.venv-$1" req="$here/requirements-$1.lock.txt"
  [ -f "$req" ] || req="$here/requirements-$1.txt"
  [ -x "$venv/bin/python" ] || "$py" -m venv "$venv"
  "$venv/bin/python" -m pip install -q --upgrade pip
  # whylogs[viz] needs pybars3/PyMeta3, which exist only as (pure-Python) sdists.
  local binary=(--only-binary=:all:)
  [ "$t" = whylogs ] && binary=(--prefer-binary)
  "$venv/bin/python" -m pip install -q "${binary[@]}" -r "$req"
  echo "$t: $("$venv/bin/python" -m pip show "$t" | sed -n 's/^Version: //p') in $venv"
}
pids=()
for t in "${tools[@]}"; do
  install "$t" > "$here/.venv-$t.log" 2>&1 &
  pids+=($!)
done
rc=0
for i in "${!pids[@]}"; do
  if wait "${pids[$i]}"; then tail -n 1 "$here/.venv-${tools[$i]}.log"
  else echo "${tools[$i]}: install FAILED, see $here/.venv-${tools[$i]}.log" >&2; rc=1; fi
done
exit $rc

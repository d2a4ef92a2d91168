#!/usr/bin/env bash
# python-gitlab fidelity check: run the unmodified python-gitlab client
# against a freshly started gitlab-sim (two EE instances, demo seed).
#
#   bash tools/gitlab-sim/fidelity/run.sh
#
# Environment:
#   MM_VENV         virtualenv to create or reuse (default: target/venv)
#   GITLAB_SIM_BIN  simulator binary to use instead of building one
#   CARGO_TARGET_DIR honoured when building
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
cd "$ROOT"
HERE="tools/gitlab-sim/fidelity"
VENV="${MM_VENV:-target/venv}"

if [ ! -x "$VENV/bin/python" ]; then
    echo "creating virtualenv $VENV"
    python3 -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$HERE/requirements.txt"

BIN="${GITLAB_SIM_BIN:-}"
if [ -z "$BIN" ]; then
    cargo build --quiet --release -p gitlab-sim --bin gitlab-sim
    BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/gitlab-sim"
fi
[ -x "$BIN" ] || { echo "gitlab-sim binary not found at $BIN" >&2; exit 1; }

WORK="$(mktemp -d)"
STATE="$WORK/state.json"
"$BIN" --instances 2 --editions ee,ee --seed demo --fast-mirrors \
    --data-dir "$WORK/data" --state-file "$STATE" >"$WORK/sim.log" 2>&1 &
SIM_PID=$!
cleanup() {
    kill "$SIM_PID" 2>/dev/null || true
    wait "$SIM_PID" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

for _ in $(seq 1 300); do
    [ -s "$STATE" ] && break
    if ! kill -0 "$SIM_PID" 2>/dev/null; then
        echo "gitlab-sim exited early:" >&2
        cat "$WORK/sim.log" >&2
        exit 1
    fi
    sleep 0.2
done
[ -s "$STATE" ] || { echo "gitlab-sim did not write $STATE" >&2; cat "$WORK/sim.log" >&2; exit 1; }

set +e
"$VENV/bin/python" "$HERE/python_gitlab_scenario.py" "$STATE"
STATUS=$?
set -e
if [ "$STATUS" -ne 0 ]; then
    echo "--- gitlab-sim log ---" >&2
    cat "$WORK/sim.log" >&2
fi
exit "$STATUS"

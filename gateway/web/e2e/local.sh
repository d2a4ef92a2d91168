#!/bin/sh
# Builds the console, serves dist/ with `vite preview` (proxying /api) and runs the suite.
#   e2e/local.sh                 -> against e2e/mock-server.mjs (started and stopped here)
#   e2e/local.sh API_URL         -> against a running gateway, e.g. http://127.0.0.1:18088
# Env: E2E_USER / E2E_PASSWORD (default admin / adminadmin123), PREVIEW_PORT (4173),
#      MOCK_PORT (18090), SKIP_BUILD=1; E2E_SIM_A_URL/E2E_SIM_A_TOKEN and
#      E2E_SIM_B_URL/E2E_SIM_B_TOKEN (simulated GitLab instances, with a real API_URL only)
#      add the mirror, Sync all, topology and search scenarios.
set -eu
cd "$(dirname "$0")/.."
PREVIEW_PORT=${PREVIEW_PORT:-4173}
MOCK_PORT=${MOCK_PORT:-18090}
USER_NAME=${E2E_USER:-admin}
PASS=${E2E_PASSWORD:-adminadmin123}
pids=""
cleanup() { for p in $pids; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT INT TERM

if [ $# -ge 1 ]; then
  API_URL=$1
else
  API_URL="http://127.0.0.1:$MOCK_PORT"
  # The mock keeps no mirrors: the simulated-GitLab scenarios cannot run against it.
  unset E2E_SIM_A_URL E2E_SIM_A_TOKEN E2E_SIM_B_URL E2E_SIM_B_TOKEN
  MOCK_PASSWORD=$PASS MOCK_USER=$USER_NAME node e2e/mock-server.mjs "$MOCK_PORT" &
  pids="$pids $!"
fi
[ "${SKIP_BUILD:-}" = 1 ] || npm run build --silent
MM_API_URL=$API_URL node node_modules/vite/bin/vite.js preview --host 127.0.0.1 --port "$PREVIEW_PORT" >/dev/null &
pids="$pids $!"
i=0
until curl -sf "http://127.0.0.1:$PREVIEW_PORT/api/health/quick" >/dev/null; do
  i=$((i + 1))
  [ $i -lt 50 ] || { echo "preview or API did not come up" >&2; exit 1; }
  sleep 0.2
done
sh e2e/run.sh "http://127.0.0.1:$PREVIEW_PORT" "$USER_NAME" "$PASS"

#!/bin/sh
# Runs the end-to-end suite against a running console + API.
#   e2e/run.sh BASE_URL USERNAME PASSWORD
# e.g. e2e/run.sh http://127.0.0.1:18088 admin adminadmin123
# Exported E2E_SIM_{A,B}_{URL,TOKEN} (two simulated GitLab instances, see tools/test-all.sh)
# enable the scenarios that need real mirrors.
set -eu
if [ $# -lt 3 ]; then
  echo "usage: $0 BASE_URL USERNAME PASSWORD" >&2
  exit 2
fi
cd "$(dirname "$0")/.."
exec node e2e/e2e.mjs "$1" "$2" "$3"

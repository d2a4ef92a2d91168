#!/usr/bin/env bash
# Runs every check of the project: formatting, lints, proto lint, the unit and integration
# tests on SQLite and PostgreSQL with RabbitMQ, the GitLab simulator's fidelity checks and
# schemathesis against the running product. Starts the local services it needs and installs
# missing packages. Usage: tools/test-all.sh
set -Eeuo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
export MM_VENV="${MM_VENV:-$ROOT/target/venv}"
export MM_TEST_DATABASE_URL="${MM_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
export MM_TEST_AMQP_URL="${MM_TEST_AMQP_URL:-amqp://guest:guest@127.0.0.1:5672/%2f}"
LOG_DIR="$ROOT/target/test-logs"
mkdir -p "$LOG_DIR"

step() { printf '\n==> %s\n' "$*"; }
die() { printf '\nFAILED: %s\n' "$*" >&2; exit 1; }

have_port() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

apt_updated=0
apt_install() {
  if [ "$apt_updated" = 0 ]; then apt-get update -qq >/dev/null || die "apt-get update failed"; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null || die "apt-get install $* failed"
}

ensure_tools() {
  step "Checking tools"
  command -v git >/dev/null || apt_install git
  command -v python3 >/dev/null || apt_install python3 python3-venv
  command -v npm >/dev/null || apt_install nodejs npm
  command -v pg_isready >/dev/null || apt_install postgresql-client
  cargo --version
}

ensure_postgres() {
  step "PostgreSQL on 127.0.0.1:5432"
  if ! pg_isready -q -h 127.0.0.1 -p 5432; then
    if ! ls /etc/postgresql >/dev/null 2>&1; then apt_install postgresql; fi
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
    for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
  fi
  pg_isready -h 127.0.0.1 -p 5432 || die "PostgreSQL is required on 127.0.0.1:5432 and could not be started"
  psql "$MM_TEST_DATABASE_URL" -Atc 'select 1' >/dev/null || die "cannot connect to $MM_TEST_DATABASE_URL (trust auth for user postgres is expected)"
}

ensure_rabbitmq() {
  step "RabbitMQ on 127.0.0.1:5672"
  # Also needed when the broker runs: the reliability tests start a private node of their own.
  command -v rabbitmq-server >/dev/null || [ -x /usr/lib/rabbitmq/bin/rabbitmq-server ] || apt_install rabbitmq-server
  if ! have_port 5672; then
    rabbitmq-server -detached || true
    for _ in $(seq 1 90); do have_port 5672 && break; sleep 1; done
  fi
  have_port 5672 || die "RabbitMQ is required on 127.0.0.1:5672 and could not be started"
  # The port opens before the broker accepts logins; wait until it answers.
  if command -v rabbitmqctl >/dev/null; then
    timeout 120 rabbitmqctl await_startup >/dev/null 2>&1 || true
  fi
}

ensure_python() {
  step "Python tools in $MM_VENV"
  if [ ! -x "$MM_VENV/bin/python" ]; then
    python3 -m venv "$MM_VENV" || { apt_install python3-venv; python3 -m venv "$MM_VENV"; }
  fi
  local reqs=()
  for f in tools/gitlab-sim/fidelity/requirements.txt gateway/schemathesis/requirements.txt; do
    [ -f "$f" ] && reqs+=(-r "$f")
  done
  if [ "${#reqs[@]}" -gt 0 ]; then
    "$MM_VENV/bin/pip" install -q --disable-pip-version-check "${reqs[@]}" || die "pip install failed"
  fi
}

ensure_chromium() {
  step "Chromium for the browser suite"
  command -v chromium >/dev/null || apt_install chromium
  chromium --version || die "chromium is required for the browser suite"
}

web_console_checks() {
  step "Web console: install, typecheck, lint, unit tests, build"
  (
    cd gateway/web
    # `npm ci` rejects lockfiles that npm 11 writes without foreign-platform optional
    # packages; `npm install` honours the lockfile, and the check below proves it is unchanged.
    npm install --silent --no-audit --no-fund >/dev/null || exit 1
    npm run --silent typecheck || exit 1
    npm run --silent lint || exit 1
    npm test --silent || exit 1
    npm run --silent build >/dev/null || exit 1
    npm run --silent size || exit 1
  ) || die "web console checks failed"
  # The binary embeds gateway/web/dist; the committed build must match the sources.
  if [ -n "$(git status --porcelain -- gateway/web/dist gateway/web/package-lock.json)" ]; then
    git status --short -- gateway/web/dist gateway/web/package-lock.json
    die "gateway/web/dist or package-lock.json is stale: run 'npm install && npm run build' in gateway/web and commit the result"
  fi
}

ensure_buf() {
  step "buf (npm @bufbuild/buf)"
  if [ ! -x target/npm/node_modules/.bin/buf ]; then
    npm install --silent --no-audit --no-fund --prefix target/npm @bufbuild/buf@1 >/dev/null || die "npm install @bufbuild/buf failed"
  fi
}

lint() {
  step "cargo fmt --check"
  cargo fmt --all -- --check || die "code is not formatted (run cargo fmt --all)"
  step "buf lint"
  (cd proto && "$ROOT/target/npm/node_modules/.bin/buf" lint) || die "buf lint failed"
  step "cargo clippy --all-targets -D warnings"
  cargo clippy --workspace --all-targets --locked -- -D warnings || die "clippy found problems"
}

unit_and_integration_tests() {
  step "Unit and integration tests (SQLite, PostgreSQL, RabbitMQ, GitLab simulator)"
  if cargo nextest --version >/dev/null 2>&1; then
    cargo nextest run --workspace --locked --no-fail-fast --final-status-level fail || die "tests failed"
  else
    cargo test --workspace --locked --no-fail-fast || die "tests failed"
  fi
}

simulator_fidelity() {
  step "GitLab simulator fidelity (python-gitlab)"
  [ -f tools/gitlab-sim/fidelity/run.sh ] || die "tools/gitlab-sim/fidelity/run.sh is missing"
  GITLAB_SIM_BIN="$ROOT/target/debug/gitlab-sim" bash tools/gitlab-sim/fidelity/run.sh || die "python-gitlab scenario failed"
}

# Creates an instance through gRPC (reflection-driven buf curl) and reads it through REST, then
# a pair through REST read back through gRPC. The token must never come back.
cross_edge_check() {
  local http_port=$1 grpc_port=$2 password=$3
  local buf="$ROOT/target/npm/node_modules/.bin/buf" auth secret out
  auth="Basic $(printf 'admin:%s' "$password" | base64 -w0)"
  secret="glpat-CrossEdgeSecret-$RANDOM$RANDOM"
  out=$("$buf" curl --protocol grpc --http2-prior-knowledge --list-methods "http://127.0.0.1:$grpc_port") || return 1
  grep -q 'mirrormaestro.v1.InstanceService/CreateInstance' <<<"$out" || { echo "reflection lists no InstanceService: $out"; return 1; }
  out=$("$buf" curl --protocol grpc --http2-prior-knowledge -H "authorization: $auth" \
    -d "{\"name\":\"cross-edge-a\",\"url\":\"http://127.0.0.1:7/\",\"token\":\"$secret\"}" \
    "http://127.0.0.1:$grpc_port/mirrormaestro.v1.InstanceService/CreateInstance") || { echo "$out"; return 1; }
  if grep -q "$secret" <<<"$out"; then echo "gRPC response contains the token"; return 1; fi
  "$buf" curl --protocol grpc --http2-prior-knowledge -H "authorization: $auth" \
    -d '{"name":"cross-edge-b","url":"http://127.0.0.1:8/","token":"glpat-other-token"}' \
    "http://127.0.0.1:$grpc_port/mirrormaestro.v1.InstanceService/CreateInstance" >/dev/null || return 1
  out=$(curl -fsS -H "authorization: $auth" "http://127.0.0.1:$http_port/api/instances?search=cross-edge") || return 1
  grep -q '"name":"cross-edge-a"' <<<"$out" || { echo "REST does not show the instance created over gRPC: $out"; return 1; }
  if grep -q "$secret" <<<"$out"; then echo "REST response contains the token"; return 1; fi
  local ids a b pair
  ids=$(python3 -c 'import json,sys; d=json.load(sys.stdin); print(" ".join(str(i["id"]) for i in sorted(d, key=lambda i: i["name"])))' <<<"$out")
  read -r a b <<<"$ids"
  pair=$(curl -fsS -H "authorization: $auth" -H 'content-type: application/json' \
    -d "{\"name\":\"cross-edge-pair\",\"source_instance_id\":$a,\"target_instance_id\":$b,\"mirror_direction\":\"push\"}" \
    "http://127.0.0.1:$http_port/api/pairs") || return 1
  local pair_id
  pair_id=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])' <<<"$pair")
  out=$("$buf" curl --protocol grpc --http2-prior-knowledge -H "authorization: $auth" \
    -d "{\"id\":\"$pair_id\"}" "http://127.0.0.1:$grpc_port/mirrormaestro.v1.PairService/GetPair") || { echo "$out"; return 1; }
  grep -q 'cross-edge-pair' <<<"$out" && grep -q 'MIRROR_DIRECTION_PUSH' <<<"$out" \
    || { echo "gRPC does not show the pair created over REST: $out"; return 1; }
  echo "cross-edge check passed (instance $a via gRPC, pair $pair_id via REST)"
}

# Two simulated GitLab instances for the browser suite. Sets SIM_PID and exports the
# E2E_SIM_{A,B}_{URL,TOKEN} variables the suite reads.
start_gitlab_sims() {
  local state_file=$1 sim_dir=$2
  target/debug/gitlab-sim --instances 2 --editions ee --seed demo --fast-mirrors --base-port 0 \
    --state-file "$state_file" --data-dir "$sim_dir" >"$LOG_DIR/gitlab-sim.log" 2>&1 &
  SIM_PID=$!
  for _ in $(seq 1 60); do
    [ -s "$state_file" ] && break
    kill -0 "$SIM_PID" 2>/dev/null || { cat "$LOG_DIR/gitlab-sim.log"; return 1; }
    sleep 0.5
  done
  [ -s "$state_file" ] || { echo "gitlab-sim wrote no state file"; return 1; }
  local vars
  vars=$(python3 - "$state_file" <<'PY'
import json, shlex, sys
instances = json.load(open(sys.argv[1]))["instances"]
for key, inst in zip("AB", instances):
    print(f"export E2E_SIM_{key}_URL={shlex.quote(inst['base_url'])} E2E_SIM_{key}_TOKEN={shlex.quote(inst['admin_token'])}")
PY
  ) || return 1
  eval "$vars"
  [ -n "${E2E_SIM_B_URL:-}" ] || { echo "gitlab-sim state lists fewer than two instances"; return 1; }
  curl -fsS -o /dev/null -H "PRIVATE-TOKEN: $E2E_SIM_A_TOKEN" "$E2E_SIM_A_URL/api/v4/version" \
    && curl -fsS -o /dev/null -H "PRIVATE-TOKEN: $E2E_SIM_B_TOKEN" "$E2E_SIM_B_URL/api/v4/version" \
    || { echo "gitlab-sim does not answer with its admin tokens"; return 1; }
}

# Stops what product_edge_checks started, also when a check dies half-way (EXIT trap).
edge_cleanup() {
  if [ -n "${PRODUCT_PID:-}" ]; then kill "$PRODUCT_PID" 2>/dev/null || true; wait "$PRODUCT_PID" 2>/dev/null || true; fi
  if [ -n "${SIM_PID:-}" ]; then kill "$SIM_PID" 2>/dev/null || true; wait "$SIM_PID" 2>/dev/null || true; fi
  PRODUCT_PID=""; SIM_PID=""
}

product_edge_checks() {
  step "Browser suite and schemathesis against the running product"
  [ -f gateway/schemathesis/run.sh ] || die "gateway/schemathesis/run.sh is missing"
  local data_dir http_port grpc_port password
  data_dir="$(mktemp -d)"
  http_port=18080; grpc_port=18051
  password="schemathesis-$RANDOM-$RANDOM"
  PRODUCT_PID=""; SIM_PID=""
  trap edge_cleanup EXIT
  step "Two simulated GitLab instances for the browser suite"
  start_gitlab_sims "$data_dir/gitlab-sim.json" "$data_dir/gitlab-sim" || die "cannot start the GitLab simulator"
  echo "simulated GitLab at $E2E_SIM_A_URL and $E2E_SIM_B_URL"
  # The simulated instances listen on loopback, which the product refuses unless allowed.
  MM_DATA_DIR="$data_dir" MM_HTTP_ADDR="127.0.0.1:$http_port" MM_GRPC_ADDR="127.0.0.1:$grpc_port" \
    MM_ADMIN_PASSWORD="$password" MM_LOG_FORMAT=json MM_ALLOW_PRIVATE_IPS=true \
    target/debug/mirror-maestro up >"$LOG_DIR/product.log" 2>&1 &
  PRODUCT_PID=$!
  for _ in $(seq 1 60); do
    curl -fsS "http://127.0.0.1:$http_port/api/health/quick" >/dev/null 2>&1 && break
    kill -0 "$PRODUCT_PID" 2>/dev/null || { cat "$LOG_DIR/product.log"; die "the product exited during start-up"; }
    sleep 1
  done
  local status=0
  step "Browser suite (Playwright + Chromium)"
  E2E_SCREENSHOT_DIR="${E2E_SCREENSHOT_DIR:-$ROOT/docs/screenshots}" \
    bash gateway/web/e2e/run.sh "http://127.0.0.1:$http_port" admin "$password" || status=$?
  [ "$status" = 0 ] || die "the browser suite failed"
  # The simulators are only needed by the browser suite.
  kill "$SIM_PID" 2>/dev/null || true
  wait "$SIM_PID" 2>/dev/null || true
  SIM_PID=""
  step "Cross-edge: gRPC via reflection (buf curl) and REST"
  cross_edge_check "$http_port" "$grpc_port" "$password" || status=$?
  [ "$status" = 0 ] || die "the cross-edge check failed"
  step "schemathesis against the REST API"
  MM_SCHEMATHESIS_AUTH="Basic $(printf 'admin:%s' "$password" | base64 -w0)" \
    bash gateway/schemathesis/run.sh "http://127.0.0.1:$http_port" || status=$?
  edge_cleanup
  trap - EXIT
  if grep -q "$password" "$LOG_DIR/product.log"; then die "the admin password appeared in the product log"; fi
  for token in "$E2E_SIM_A_TOKEN" "$E2E_SIM_B_TOKEN"; do
    if grep -qF "$token" "$LOG_DIR/product.log"; then die "a GitLab token appeared in the product log"; fi
  done
  rm -rf "$data_dir"
  [ "$status" = 0 ] || die "schemathesis found problems"
}

main() {
  local started=$SECONDS
  ensure_tools
  ensure_postgres
  ensure_rabbitmq
  ensure_python
  ensure_buf
  ensure_chromium
  web_console_checks
  lint
  step "Building the workspace"
  cargo build --workspace --all-targets --locked || die "build failed"
  unit_and_integration_tests
  simulator_fidelity
  product_edge_checks
  printf '\nAll checks passed in %ss\n' "$((SECONDS - started))"
}

main "$@"

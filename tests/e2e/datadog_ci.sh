#!/usr/bin/env bash
# End to end: the real datadog-ci client (`datadog-ci dora deployment`, npm packages
# @datadog/datadog-ci + @datadog/datadog-ci-plugin-dora) sends a DORA deployment event to
# `portolan serve` over TLS, unchanged except for its site setting; the deployment then shows in
# Port's REST API and moves the service's DORA aggregation.
#
# datadog-ci always posts to https://api.${DD_SITE}/api/v2/dora/deployment. So the test:
#   - makes a throwaway CA and a server certificate for portolan.test / api.portolan.test;
#   - runs `portolan serve` with it on 127.0.0.1 (a free port);
#   - runs datadog-ci with DD_SITE=portolan.test:PORT, NODE_EXTRA_CA_CERTS=<the CA>, inside a
#     private mount namespace where a copy of /etc/hosts that maps api.portolan.test to
#     127.0.0.1 is bind-mounted over /etc/hosts (the machine's /etc/hosts is left alone).
#
# Needs: root (or unprivileged user namespaces) for unshare, Node >= 20 with npm and the npm
# registry (first run only: the packages are cached in $PORTOLAN_BUILD_DIR/e2e-node), openssl,
# curl, jq, and a built portolan (PORTOLAN_BIN). Usage: tests/e2e/datadog_ci.sh
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

# datadog-ci 5.x needs Node >= 20 (its package.json "engines"); the dora command ships as a
# plugin of the same version. Both pinned so that the request the test sends never drifts.
DATADOG_CI_VERSION=${DATADOG_CI_VERSION:-5.25.0}
NODE_DIR=${E2E_NODE_DIR:-$PORTOLAN_BUILD_DIR/e2e-node}
SITE=portolan.test                 # a reserved TLD (RFC 2606): never a real host
SERVICE=checkout-api
COMMIT_SHA=0123456789abcdef0123456789abcdef01234567

e2e_init
require_cmd node npm openssl curl jq unshare mount timeout
require_portolan

# ---------------------------------------------------------------------------------------------
# 1. datadog-ci, installed once per build directory (reused while the pinned version matches).
datadog_ci=$NODE_DIR/node_modules/.bin/datadog-ci
plugin_pkg=$NODE_DIR/node_modules/@datadog/datadog-ci-plugin-dora/package.json
installed=$(jq -r .version "$plugin_pkg" 2>/dev/null || true)
if [ ! -x "$datadog_ci" ] || [ "$installed" != "$DATADOG_CI_VERSION" ]; then
  log "npm install datadog-ci $DATADOG_CI_VERSION into $NODE_DIR"
  mkdir -p "$NODE_DIR"
  [ -f "$NODE_DIR/package.json" ] || echo '{"private": true}' >"$NODE_DIR/package.json"
  npm install --prefix "$NODE_DIR" --no-audit --no-fund --save-exact --loglevel=error \
    "@datadog/datadog-ci@$DATADOG_CI_VERSION" \
    "@datadog/datadog-ci-plugin-dora@$DATADOG_CI_VERSION" >&2
fi
# DISABLE_PLUGIN_AUTO_INSTALL: never let datadog-ci fetch a plugin at run time.
export DISABLE_PLUGIN_AUTO_INSTALL=1
assert_contains "datadog-ci $DATADOG_CI_VERSION runs" "$DATADOG_CI_VERSION" "$("$datadog_ci" version 2>&1)"

# ---------------------------------------------------------------------------------------------
# 2. TLS material, a workspace with the DORA pack, credentials, the server.
make_test_ca "$E2E_TMP/tls" "$SITE"
ws=$E2E_TMP/ws
portolan -w "$ws" apply -f "$E2E_ROOT/blueprints/dora" >/dev/null
create_credentials "$ws" ci                       # CLIENT_ID, CLIENT_SECRET
start_server "$ws" --tls-cert "$E2E_TMP/tls/server.pem" --tls-key "$E2E_TMP/tls/server.key" \
  --log-level warn
assert_contains "the server speaks TLS" "https://127.0.0.1:" "$SERVER_URL"
# shellcheck disable=SC2034  # read by api()
TOKEN=$(get_token "$CLIENT_ID" "$CLIENT_SECRET")

# The service the deployments are for (Datadog's `service` is the service entity's identifier).
api POST '/v1/blueprints/service/entities?upsert=true&merge=true' '200|201' \
  "$(jq -nc --arg id "$SERVICE" '{identifier: $id, title: $id, properties: {language: "Go"}}')" \
  >/dev/null

# deployment_count: how many deployment entities the API lists.
deployment_count() {
  api GET /v1/blueprints/deployment/entities 200 | jq -r '.entities | length'
}
before=$(deployment_count)
assert_eq "no deployment before datadog-ci runs" 0 "$before"

# ---------------------------------------------------------------------------------------------
# 3. datadog-ci against the server.
hosts=$E2E_TMP/hosts
make_hosts_file "$hosts" "api.$SITE" "$SITE"

# dd_ci API_KEY ARGS...: run `datadog-ci ARGS` with that key against this server, in the private
# mount namespace, from the temp dir (no git repository, no datadog-ci.json around); its output
# (stdout+stderr) goes to $E2E_TMP/datadog-ci.out. Proxy settings are dropped so the request
# goes straight to loopback. Bounded: datadog-ci retries connection errors and 5xx answers five
# times with back-off (about 45 s), then gives up.
dd_ci() {
  local key=$1; shift
  (cd "$E2E_TMP" && run_with_hosts "$hosts" \
    env -u DATADOG_SITE -u DATADOG_API_KEY -u HTTP_PROXY -u HTTPS_PROXY -u http_proxy \
      -u https_proxy -u ALL_PROXY -u all_proxy \
      DD_SITE="$SITE:$SERVER_PORT" DD_API_KEY="$key" NODE_EXTRA_CA_CERTS="$E2E_TMP/tls/ca.pem" \
    timeout 120 "$datadog_ci" "$@") >"$E2E_TMP/datadog-ci.out" 2>&1
}

# Unix seconds (datadog-ci takes seconds or ISO 8601 without fractions); it sends nanoseconds.
finished=$(($(date +%s) - 60))
started=$((finished - 240))
deploy_args=(dora deployment --service "$SERVICE" --env prod
  --started-at "$started" --finished-at "$finished"
  --git-repository-url "https://github.com/acme/$SERVICE" --git-commit-sha "$COMMIT_SHA"
  --version 1.4.2)

log "datadog-ci ${deploy_args[*]}"
rc=0
dd_ci "$CLIENT_SECRET" "${deploy_args[@]}" || rc=$?
out=$(cat "$E2E_TMP/datadog-ci.out")
[ "$rc" = 0 ] || printf '%s\n' "$out" >&2
assert_eq "datadog-ci dora deployment exits 0" 0 "$rc"
assert_contains "datadog-ci reports success" "Successfully sent DORA deployment event" "$out"
assert_eq "datadog-ci did not retry" "" "$(grep -F 'Retrying' <<<"$out" || true)"

# The deployment, through Port's API.
entities=$(api GET /v1/blueprints/deployment/entities 200)
assert_json "one deployment was created" "$entities" '.entities | length' $((before + 1))
deployment=$(jq -c --arg s "$SERVICE" \
  '[.entities[] | select(.relations.service == $s)] | first // empty' <<<"$entities")
assert_ne "a deployment is related to service $SERVICE" "" "$deployment"
if [ -n "$deployment" ]; then
  assert_json "its environment is Production (env prod)" "$deployment" '.properties.environment' Production
  id=$(jq -r .identifier <<<"$deployment")
  one=$(api GET "/v1/blueprints/deployment/entities/$(jq -rn --arg v "$id" '$v | @uri')" 200)
  assert_json "GET by identifier returns it" "$one" '.entity.relations.service' "$SERVICE"
fi
# ... and it counts in the service's DORA aggregation (successful Production deployments).
svc=$(api GET "/v1/blueprints/service/entities/$SERVICE" 200)
assert_json "service $SERVICE counts the deployment" "$svc" '.entity.properties.total_deployments' 1

# ---------------------------------------------------------------------------------------------
# 4. A wrong API key: datadog-ci fails (the server answers 401/403, which it does not retry)
# and nothing is written.
rc=0
dd_ci "not-$CLIENT_SECRET" "${deploy_args[@]}" || rc=$?
out=$(cat "$E2E_TMP/datadog-ci.out")
assert_ne "datadog-ci with a wrong DD_API_KEY exits non-zero" 0 "$rc"
assert_ne "datadog-ci with a wrong key does not hang (124: killed by timeout)" 124 "$rc"
assert_contains "datadog-ci shows a 401/403" "Request failed with status code 40" "$out"
assert_eq "nothing written with a wrong key" $((before + 1)) "$(deployment_count)"

# ---------------------------------------------------------------------------------------------
# 5. Clean shutdown, and the deployment is durable (read back by the CLI from the workspace).
stop_server
count=$(portolan -w "$ws" -o json get deployment |
  jq 'if type == "array" then length elif type == "object" and has("entities") then (.entities | length) else -1 end')
assert_eq "the deployment is in the workspace after shutdown" $((before + 1)) "$count"

e2e_finish
